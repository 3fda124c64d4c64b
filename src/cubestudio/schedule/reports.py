"""What applying, clearing and backfilling answer, as plain data: the `--json` objects of
`cube schedule apply`, `cube schedule clear` and `cube backfill`, which the API returns too,
so that a script reads the same keys from the local store and from a server.

More runs than ``CONFIRM_ABOVE`` are never created without a confirmation: the CLI asks on
a terminal (or takes --yes), the API takes ``confirm: true``.
"""

from __future__ import annotations

from cubestudio.errors import StateError
from cubestudio.schedule.backfill import BackfillState
from cubestudio.schedule.plan import NewRuns, iso_utc
from cubestudio.schedule.registry import ApplyPreview, ApplyResult, Cleared

# A catch-up of a year of nightly runs, or a minutely backfill, should never be a surprise.
CONFIRM_ABOVE = 20


def preview_facts(preview: ApplyPreview) -> dict[str, object]:
    """What an apply would do, before the runs it would create."""
    return {"created": preview.created, "start": iso_utc(preview.start), "reset": preview.reset}


def applied(result: ApplyResult, *, runs: int) -> dict[str, object]:
    return {
        "pipeline": result.pipeline,
        "created": result.created,
        "start": iso_utc(result.start),
        "next": iso_utc(result.next),
        "reset": result.reset,
        "runs": runs,
    }


def new_runs(name: str, runs: NewRuns, facts: dict[str, object]) -> dict[str, object]:
    """A dry run: the execution dates of the runs it would create, oldest first."""
    dates = [iso_utc(tick) for tick in runs]
    return {"pipeline": name, **facts, "runs": runs.count, "execution_dates": dates}


def cleared(result: Cleared) -> dict[str, object]:
    return {
        "pipeline": result.pipeline,
        "records": result.records,
        "runs": result.runs,
        "busy": result.busy,
    }


def backfill_state(state: BackfillState) -> dict[str, object]:
    """Where a backfill stands after a step (``launched``: the runs this step created)."""
    return {
        "launched": state.launched,
        "waiting": state.waiting,
        "active": state.active,
        "done": state.done,
        "stuck": state.stuck,
        "reason": state.reason,
    }


def stuck(name: str, waiting: int, reason: str | None) -> StateError:
    """The refusal of a backfill that cannot go on: records wait for a past that failed."""
    return StateError(f"{name}: {waiting} records still wait: {reason}")
