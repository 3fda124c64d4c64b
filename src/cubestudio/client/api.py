"""``Client``: a Cube Studio server from Python, as one user in one project.

    from cubestudio.client import Client

    client = Client("http://127.0.0.1:8080", token="...")
    run = client.submit("examples/diamond.yaml", params={"lr": 0.1})
    result = run.wait()               # what `cube run --json` prints
    print(run.logs("train"))

A pipeline is given as an SDK ``Pipeline``, a ``PipelineSpec``, a file (.yaml, .json, .py)
or its data. It is checked here first (the same messages as `cube validate`), then saved on
the server as a new version only when it differs from the latest one, and the run pins that
version. The server checks what only it knows: the job templates and project secrets.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from cubestudio.client.http import TIMEOUT, Conflict, Http, NotFound
from cubestudio.client.runs import Run
from cubestudio.spec.model import PipelineSpec
from cubestudio.spec.sdk import Pipeline

PipelineLike = Pipeline | PipelineSpec | str | os.PathLike[str] | dict[str, Any]
DEFAULT_PROJECT = "default"
RUN_ROW_KEYS = ("run_id", "pipeline", "status", "trigger", "created_at")  # `cube runs --json`


class Client:
    """Requests to one server with one token, in one project (``default`` unless given)."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        project: str = DEFAULT_PROJECT,
        timeout: float = TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.http = Http(url, token, timeout=timeout, transport=transport)
        self.token = token
        self.project = project

    @classmethod
    def login(
        cls, url: str, username: str, password: str, *, project: str = DEFAULT_PROJECT
    ) -> Client:
        """A client with a login session's token (kept in ``client.token``)."""
        return cls(url, login_token(url, username, password), project=project)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def path(self, rest: str) -> str:
        """A path under the client's project."""
        return f"/projects/{quote(self.project, safe='')}{rest}"

    # -- pipelines ------------------------------------------------------------------------
    def validate(self, pipeline: PipelineLike) -> None:
        """Check a pipeline as the server would save it; Invalid (with every problem)."""
        data = pipeline_data(to_spec(pipeline))
        self.http.json("POST", self.path("/pipelines/validate"), json={"spec": data})

    def save(self, pipeline: PipelineLike, *, message: str | None = None) -> tuple[str, int]:
        """Save the pipeline as its next version unless the latest one has the same content;
        (its name, the version that has it)."""
        data = pipeline_data(to_spec(pipeline))
        name = str(data["name"])
        where = self.path(f"/pipelines/{quote(name, safe='')}")
        try:
            latest = self.http.json("GET", where)
        except NotFound:
            latest = None
        if latest is not None and latest["version"] > 0 and latest["spec"] == data:
            return name, int(latest["version"])
        body: dict[str, Any] = {"spec": data, "message": message}
        if latest is None:
            try:
                saved = self.http.json("POST", self.path("/pipelines"), json=body)
                return name, int(saved["version"])
            except Conflict:
                pass  # created meanwhile by someone else: save a version of it
        return name, int(self.http.json("PUT", where, json=body)["version"])

    def submit(self, pipeline: PipelineLike, params: dict[str, Any] | None = None) -> Run:
        """Start a run of the pipeline (saved first, as ``save`` does) with ``params`` over
        its defaults; the run's handle at once (``run.wait()`` follows it to its end).
        Params are checked here, before anything is saved."""
        from cubestudio.spec.params import resolve_params

        spec = to_spec(pipeline)
        resolve_params(spec, dict(params or {}))  # SpecError: nothing saved, nothing run
        name, version = self.save(spec)
        body = {"params": dict(params or {}), "version": version}
        where = self.path(f"/pipelines/{quote(name, safe='')}/runs")
        return Run(self.http, self.project, str(self.http.json("POST", where, json=body)["run_id"]))

    # -- runs and templates -----------------------------------------------------------------
    def run(self, run_id: str) -> Run:
        """The handle of an existing run (an id, or a unique prefix of 4 characters or
        more); NotFound when the project has none."""
        run = Run(self.http, self.project, run_id)
        run.refresh()
        return run

    def runs(
        self, *, pipeline: str | None = None, limit: int = 50, include_debug: bool = False
    ) -> list[dict[str, Any]]:
        """The run history, newest first, as `cube runs --json` prints it."""
        rows = self._run_rows(pipeline=pipeline, limit=limit, trigger=None)
        if include_debug:
            rows += self._run_rows(pipeline=pipeline, limit=limit, trigger="debug")
            rows.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
        return [
            {
                "run_id": r["id"],
                "pipeline": r["pipeline"],
                "status": r["status"],
                "trigger": r["trigger"],
                "created_at": iso(r["created_at"]),
                **({"waiting": r["waiting"]} if r.get("waiting") else {}),
            }
            for r in rows[:limit]
        ]

    def _run_rows(
        self, *, pipeline: str | None, limit: int, trigger: str | None
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        cursor = None
        while len(rows) < limit:
            query = {"pipeline": pipeline, "trigger": trigger, "cursor": cursor}
            params: dict[str, Any] = {k: v for k, v in query.items() if v is not None}
            params["limit"] = min(200, limit - len(rows))  # the API's largest page
            page = self.http.json("GET", self.path("/runs"), params=params)
            rows += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        return rows

    def delete_run(self, run_id: str) -> None:
        """Delete an ended run with everything kept for it (Conflict while it has not
        ended); the full id, as the run lists give it."""
        self.http.request("DELETE", self.path(f"/runs/{quote(run_id, safe='')}"))

    def templates(self) -> list[dict[str, Any]]:
        """The latest version of every template the project may use, as `cube template list
        --json` prints them."""
        rows = self.http.json("GET", "/templates", params={"project": self.project})
        return [
            {
                "name": t["name"],
                "version": t["version"],
                "category": t["category"],
                "description": t["description"],
                "created_at": iso(t["created_at"]),
            }
            for t in rows
        ]

    # -- monitoring -----------------------------------------------------------------------
    def queues(self) -> dict[str, Any]:
        """`cube queue list --json`'s object (the queues of the user's projects)."""
        return dict(self.http.json("GET", "/queues"))

    def set_queue(self, name: str, changes: dict[str, str]) -> dict[str, Any]:
        """`cube queue set NAME`: the queue's settings after the change."""
        where = f"/projects/{quote(name, safe='')}/queue"
        return dict(self.http.json("PUT", where, json=changes))

    def task_workers(self, run_id: str, task: str, attempt: int) -> dict[str, Any] | None:
        """A distributed task's members (None for a task that is not distributed)."""
        where = self.path(f"/runs/{quote(run_id, safe='')}/tasks/{quote(task, safe='')}/workers")
        try:
            return dict(self.http.json("GET", where, params={"attempt": attempt}))
        except NotFound:
            return None

    def run_metrics(self, run_id: str) -> dict[str, Any]:
        """Each sampled attempt's latest sample, peaks and series: `cube top --once
        --json`'s object, each task with its ``series`` (columns) added. The full id."""
        where = self.path(f"/runs/{quote(run_id, safe='')}/metrics")
        snap = dict(self.http.json("GET", where))
        snap["at"] = iso(snap["at"])
        for task in snap["tasks"]:
            task["sampled_at"] = iso(task["sampled_at"])
            task["series"]["at"] = [iso(at) for at in task["series"]["at"]]
        return snap

    def rightsize(
        self, name: str, *, runs: int = 10, policy: str = "headroom", apply: bool = False
    ) -> dict[str, Any]:
        """The requests suggested for each task of the saved pipeline ``name`` from the
        peaks of its ``runs`` last succeeded runs, with them (`cube rightsize --json`'s
        object less ``yaml_change``); ``apply`` saves them as its next version, whose number
        is ``applied_version`` (None: nothing to change)."""
        rest = "/rightsize/apply" if apply else "/rightsize"
        body = {"runs": runs, "policy": policy}
        result = dict(self.http.json("POST", self._pipeline(name, rest), json=body))
        for task in result["tasks"]:
            for peak in task["evidence"]:
                peak["created_at"] = iso(peak["created_at"])
        return result

    # -- schedules ------------------------------------------------------------------------
    def schedule_records(
        self, name: str, *, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """The pipeline's schedule records, newest first, as `cube schedule records --json`."""
        params: dict[str, Any] = {"limit": limit}
        if status is not None:
            params["status"] = status
        return list(self.http.json("GET", self._schedule(name, "/records"), params=params))

    def clear_schedule(self, name: str) -> dict[str, Any]:
        """Delete the waiting records and never started scheduled runs (`cube schedule
        clear --json`'s object)."""
        return dict(self.http.json("POST", self._schedule(name, "/clear")))

    def preview_apply(self, pipeline: PipelineLike, *, dates: bool = False) -> dict[str, Any]:
        """What applying the pipeline's schedule would do, the runs it would create (every
        execution date with ``dates``) and the sentence that says it; stores nothing."""
        data = pipeline_data(to_spec(pipeline))
        body = {"spec": data, "dates": dates}
        return dict(
            self.http.json("POST", self._schedule(str(data["name"]), "/apply/preview"), json=body)
        )

    def apply_schedule(
        self, name: str, *, version: int | None = None, confirm: bool = False
    ) -> dict[str, Any]:
        """Apply a saved version's schedule (the latest by default); ``confirm`` is needed
        above 20 runs. `cube schedule apply --json`'s object."""
        body = {"version": version, "confirm": confirm}
        return dict(self.http.json("POST", self._schedule(name, "/apply"), json=body))

    def preview_backfill(
        self, pipeline: PipelineLike, *, start: str, end: str, dates: bool = False
    ) -> dict[str, Any]:
        """The runs a backfill of the range would create; stores nothing."""
        data = pipeline_data(to_spec(pipeline))
        body = {"spec": data, "start": start, "end": end, "dates": dates}
        where = self._pipeline(str(data["name"]), "/backfill/preview")
        return dict(self.http.json("POST", where, json=body))

    def backfill(
        self, name: str, *, start: str, end: str, version: int | None = None, confirm: bool = False
    ) -> dict[str, Any]:
        """Record the range's ticks and admit the first runs; then ``backfill_step`` with
        the ``start`` and ``end`` of this answer until it is ``done`` or ``stuck``."""
        body = {"start": start, "end": end, "version": version, "confirm": confirm}
        return dict(self.http.json("POST", self._pipeline(name, "/backfill"), json=body))

    def backfill_step(
        self, name: str, *, start: str, end: str, version: int | None = None
    ) -> dict[str, Any]:
        body = {"start": start, "end": end, "version": version}
        return dict(self.http.json("POST", self._pipeline(name, "/backfill/step"), json=body))

    def _pipeline(self, name: str, rest: str) -> str:
        return self.path(f"/pipelines/{quote(name, safe='')}{rest}")

    def _schedule(self, name: str, rest: str) -> str:
        return self._pipeline(name, f"/schedule{rest}")


def login_token(url: str, username: str, password: str) -> str:
    """A login session's token (POST /auth/login); Unauthorized for a wrong password."""
    anonymous = Http(url)
    try:
        body = {"username": username, "password": password}
        return str(anonymous.json("POST", "/auth/login", json=body)["access_token"])
    finally:
        anonymous.close()


def to_spec(pipeline: PipelineLike) -> PipelineSpec:
    """The pipeline checked as `cube validate` checks it, without the job templates (the
    server's registry checks those)."""
    from cubestudio.spec.loader import load_pipeline, pipeline_from_data

    if isinstance(pipeline, PipelineSpec):
        return pipeline
    if isinstance(pipeline, Pipeline):
        return pipeline.build()
    if isinstance(pipeline, dict):
        return pipeline_from_data(pipeline)
    return load_pipeline(Path(pipeline))


def pipeline_data(spec: PipelineSpec) -> dict[str, Any]:
    """The data the server stores. The folder of a local file means nothing there: a
    relative `workdir:` is refused by the server, as for any pipeline given as data."""
    data = spec.to_data()
    data.pop("pipeline_dir", None)
    return data


def iso(value: str) -> str:
    """An API time (``...Z``) as the CLI writes times (``...+00:00``)."""
    return datetime.fromisoformat(value).isoformat()
