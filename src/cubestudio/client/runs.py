"""A run on a server, as a handle: its status, its end, its logs, and the requests a user
makes of it (stop, retry, rerun). What it returns has the shapes of the local CLI's contract:
``summary()`` is `cube run --json`'s object, ``details()`` is `cube show --json`'s."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from cubestudio.client.http import ClientError, Http, Unreachable, sse_events
from cubestudio.engine.states import RUN_TERMINAL
from cubestudio.errors import CubeError

# The task keys of the `cube run --json` contract (README, "The contract scripts rely on").
TASK_KEYS = ("status", "attempts", "exit_code", "started_at", "finished_at")
# What the API's run detail adds to `cube show --json`'s object.
API_KEYS = ("pipeline_version", "project")
API_TASK_KEYS = ("attempt_list",)
ENDED = frozenset(state.value for state in RUN_TERMINAL)
FOLLOW_SILENCE = 60.0  # seconds a log stream may be silent (the server pings every 15 s)
RECONNECTS = 5  # times a dropped log stream is reopened where it was
UNREACHABLE_GRACE = 30.0  # seconds a followed run's server may be away (a restart)


class WaitTimeout(CubeError, TimeoutError):
    """The run had not ended when the time given to ``wait`` was up."""

    exit_code = 124  # as `cube wait --timeout` and timeout(1)


class Run:
    """One run of ``project`` on the server ``http`` talks to. Every property that tells
    the run's state asks the server again; ``detail`` keeps the last answer."""

    def __init__(self, http: Http, project: str, run_id: str) -> None:
        self.http = http
        self.project = project
        self.id = run_id
        self.detail: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Run({self.id!r}, project={self.project!r})"

    @property
    def path(self) -> str:
        return f"/projects/{quote(self.project, safe='')}/runs/{quote(self.id, safe='')}"

    def refresh(self) -> dict[str, Any]:
        """The run as the server has it now (also kept in ``detail``)."""
        self.detail = self.http.json("GET", self.path)
        self.id = self.detail["run_id"]  # a prefix given by a person becomes the full id
        return self.detail

    @property
    def status(self) -> str:
        return str(self.refresh()["status"])

    @property
    def pipeline(self) -> str:
        return str((self.detail or self.refresh())["pipeline"])

    def summary(self, *, fresh: bool = True) -> dict[str, Any]:
        """`cube run --json`'s object: run_id, status and each task's contract keys."""
        detail = self.refresh() if fresh or not self.detail else self.detail
        return contract_summary(detail)

    def details(self, *, fresh: bool = True) -> dict[str, Any]:
        """`cube show --json`'s object: the summary with the run's facts and each task's
        message and value outputs."""
        detail = self.refresh() if fresh or not self.detail else self.detail
        out = {k: v for k, v in detail.items() if k not in API_KEYS}
        out["tasks"] = {
            name: {k: v for k, v in task.items() if k not in API_TASK_KEYS}
            for name, task in detail["tasks"].items()
        }
        return out

    def wait(
        self,
        timeout: float | None = None,
        poll: float = 0.5,
        on_change: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Block until the run ends; its summary. ``on_change`` gets each new state of the
        run (the API's detail), for a progress display. WaitTimeout past ``timeout``. The
        server may be away for a while (a restart): Unreachable only after UNREACHABLE_GRACE
        seconds without an answer."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = min(0.05, poll)
        last: dict[str, Any] | None = None
        while True:
            detail = self._refresh_patiently()
            if on_change is not None and detail != last:
                on_change(detail)
            last = detail
            if detail["status"] in ENDED:
                return contract_summary(detail)
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(f"run {self.id} is still {detail['status']} after {timeout:g}s")
            # Quick looks first (a short run ends in a moment), then every ``poll`` seconds.
            pause = delay if deadline is None else min(delay, max(0.0, deadline - time.monotonic()))
            time.sleep(pause)
            delay = min(delay * 1.5, poll)

    def _refresh_patiently(self) -> dict[str, Any]:
        away_since = time.monotonic()
        while True:
            try:
                return self.refresh()
            except Unreachable:
                if time.monotonic() - away_since > UNREACHABLE_GRACE:
                    raise
                time.sleep(1.0)

    def logs(
        self,
        task: str,
        attempt: int | None = None,
        tail: int | None = None,
        search: str | None = None,
        worker: str | None = None,
    ) -> str:
        """A task's log (its latest attempt unless ``attempt``), secrets masked; ``tail``:
        the last lines only; ``search``: the lines matching a Python regex; ``worker``: a
        distributed task's worker's own log."""
        params = _params(attempt=attempt, tail=tail, search=search, worker=worker)
        return self.http.request("GET", self._log_path(task), params=params).text

    def follow_logs(
        self,
        task: str,
        attempt: int | None = None,
        tail: int | None = None,
        search: str | None = None,
        worker: str | None = None,
    ) -> Iterator[str]:
        """A task's log lines as they are written, until its attempt ends (a task yet to
        start is waited for). A dropped connection is reopened where it was."""
        params = _params(attempt=attempt, tail=tail, search=search, follow="true", worker=worker)
        last_id: str | None = None
        for tries in range(RECONNECTS + 1):
            headers = {"Last-Event-ID": last_id} if last_id is not None else {}
            try:
                with self.http.stream(
                    "GET",
                    self._log_path(task),
                    params=params,
                    headers=headers,
                    read_timeout=FOLLOW_SILENCE,
                ) as response:
                    for event in sse_events(response):
                        if event.event == "log":
                            last_id = event.id or last_id
                            yield event.data + "\n"
                        elif event.event == "end":
                            return
                        elif event.event == "error":
                            raise ClientError(f"the log stream of task {task} failed: "
                                              f"{event.data}")  # fmt: skip
            except Unreachable:
                if tries == RECONNECTS:
                    raise
                time.sleep(min(2.0, 0.2 * 2**tries))
        raise Unreachable(f"the log stream of task {task} kept breaking")

    def stop(self) -> bool:
        """Ask the server to stop the run; False when it had already ended."""
        from cubestudio.client.http import Conflict

        try:
            self.http.json("POST", f"{self.path}/stop")
        except Conflict:
            return False
        return True

    def retry(self) -> list[str]:
        """Run the failed, upstream_failed and stopped tasks again in this run; their names.
        ``wait()`` follows the run to its new end."""
        return list(self.http.json("POST", f"{self.path}/retry")["tasks"])

    def rerun(self, from_task: str) -> list[str]:
        """Run ``from_task`` and everything downstream of it again; their names."""
        body = {"from_task": from_task}
        return list(self.http.json("POST", f"{self.path}/rerun", json=body)["tasks"])

    def _log_path(self, task: str) -> str:
        return f"{self.path}/tasks/{quote(task, safe='')}/logs"


def contract_summary(detail: dict[str, Any]) -> dict[str, Any]:
    """`cube run --json`'s object out of the API's run detail: the contract's keys only."""
    return {
        "run_id": detail["run_id"],
        "status": detail["status"],
        "tasks": {
            name: {key: task[key] for key in TASK_KEYS} for name, task in detail["tasks"].items()
        },
    }


def _params(**given: Any) -> dict[str, Any]:
    return {k: v for k, v in given.items() if v is not None}
