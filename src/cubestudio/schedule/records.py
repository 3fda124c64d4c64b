"""A pipeline's schedule records as plain data (`cube schedule records`, and the API's list
of them): one per execution date, newest first, each with its run when it has one."""

from __future__ import annotations

from cubestudio.errors import FieldError, NotFoundError, SpecError
from cubestudio.schedule.plan import iso_utc
from cubestudio.schedule.states import RecordStatus
from cubestudio.store import schedules as store
from cubestudio.store.db import Database
from cubestudio.store.tables import DEFAULT_PROJECT_ID


def check_status(status: str | None, *, field: str) -> None:
    """Refuse a status that no record has, naming ``field`` (`--status`, or the API's)."""
    if status is not None and status not in RecordStatus._value2member_map_:
        choices = ", ".join(RecordStatus)
        raise SpecError([FieldError(field, f"{status!r} is not one of {choices}")])


def pipeline_records(
    db: Database,
    *,
    name: str,
    status: str | None,
    limit: int,
    project_id: int = DEFAULT_PROJECT_ID,
) -> list[dict[str, object]]:
    """The newest ``limit`` records of the pipeline (of one status, when given)."""
    with db.begin() as conn:
        pipeline_id = store.find_pipeline(conn, name=name, project_id=project_id)
        if pipeline_id is None:
            raise NotFoundError(f"no pipeline '{name}' (see `cube schedule list`)")
        rows = store.list_records(conn, pipeline_id=pipeline_id, status=status, limit=limit)
    return [
        {
            "execution_date": iso_utc(row["execution_date"]),
            "status": row["status"],
            "trigger": row["trigger"],
            "run_id": row["run_id"],
            "run_status": row["run_status"],
            "message": row["message"],
        }
        for row in rows
    ]
