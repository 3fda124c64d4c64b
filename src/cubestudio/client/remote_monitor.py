"""`cube top RUN` and `cube rightsize PIPELINE` against a server (see remote_cli.py): the
server's samples and advice, printed by the local commands' own functions, with the same
`--json` objects and exit codes.

`cube top` reads GET .../runs/{id}/metrics (the snapshot, less the series) once, or every
`--every` seconds until the run ends or Ctrl-C. `cube rightsize` asks POST
.../pipelines/{name}/rightsize, and with --apply .../rightsize/apply, which saves the
pipeline's next version on the server. Only pipelines the server knows can be advised: a
file is known there once `cube run` or `cube submit` has sent it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cubestudio.client.api import DEFAULT_PROJECT, Client
from cubestudio.client.http import Conflict, NotFound
from cubestudio.client.remote_cli import open_run, session
from cubestudio.errors import NotFoundError, StateError
from cubestudio.monitor.rightsize import POLICIES, RunPeak, TaskAdvice

if TYPE_CHECKING:
    from cubestudio.cli.remote import Target


def top(
    target: Target, run_id: str, once: bool = False, json_out: bool = False, every: float = 1.0
) -> None:
    """As `cube top RUN`, from the samples the server's engine stored."""
    from cubestudio.cli.top import show, with_workers

    with session(target) as client:
        full_id = open_run(client, run_id).id

        def members(task: str, attempt: int, running: bool) -> dict[str, Any] | None:
            return client.task_workers(full_id, task, attempt)

        def view() -> dict[str, Any]:
            snap = client.run_metrics(full_id)
            for task in snap["tasks"]:
                del task["series"]  # the API's addition to the snapshot
            return with_workers(snap, members)

        show(view, once=once, json_out=json_out, every=every)


def rightsize(
    target: Target,
    pipeline: str,
    apply: bool = False,
    runs: int = 10,
    policy: str = "headroom",
    project: str = DEFAULT_PROJECT,
    json_out: bool = False,
) -> None:
    """As `cube rightsize PIPELINE`, of the pipeline saved on the server (in the command's
    --project when one other than the default is given, else the server's chosen one)."""
    from cubestudio.cli.rightsize import show

    if policy not in POLICIES:
        raise StateError(f"--policy {policy!r}: use one of {', '.join(POLICIES)}")
    there = target if project == DEFAULT_PROJECT else replace(target, project=project)
    with session(there) as client:
        result = _advise(client, there, pipeline, runs=runs, policy=policy, apply=apply)
    show(result, advice_of(result), apply=apply, json_out=json_out)


def _advise(
    client: Client, target: Target, name: str, *, runs: int, policy: str, apply: bool
) -> dict[str, Any]:
    try:
        return _asked(client, name, runs=runs, policy=policy, apply=apply)
    except NotFound as err:
        if not err.message.startswith(f"pipeline {name} "):
            raise  # the project: session() says which
        raise NotFoundError(
            f"pipeline {name}: no such pipeline in project {target.project} on {target.url} "
            "(a pipeline file gets there with `cube run FILE` or `cube submit FILE`)"
        ) from None


def _asked(client: Client, name: str, *, runs: int, policy: str, apply: bool) -> dict[str, Any]:
    """The server's advice (applied with ``apply``). A pipeline the server knows only from
    runs of its data, never saved, is refused --apply: its preview then, which the local
    command's printing refuses as it does for a pipeline run from a file."""
    try:
        return client.rightsize(name, runs=runs, policy=policy, apply=apply)
    except Conflict:
        if not apply:
            raise
        preview = client.rightsize(name, runs=runs, policy=policy)
        if preview["version"] != 0:
            raise
        return preview


def advice_of(result: dict[str, Any]) -> list[TaskAdvice]:
    """The TaskAdvice list of a `cube rightsize --json` object's tasks."""
    return [
        TaskAdvice(
            task=t["task"],
            current_cpu=t["current"]["cpu"],
            current_memory=t["current"]["memory"],
            cpu=t["suggested"]["cpu"],
            memory=t["suggested"]["memory"],
            evidence=tuple(
                RunPeak(
                    run_id=p["run_id"],
                    created_at=datetime.fromisoformat(p["created_at"]),
                    attempt=p["attempt"],
                    cpu_max=p["cpu_max_percent"],
                    rss_max=p["rss_max_bytes"],
                    gpu_mem_max=p["gpu_mem_max_bytes"],
                )
                for p in t["evidence"]
            ),
        )
        for t in result["tasks"]
    ]


def queue_list(target: Target, json_out: bool = False) -> None:
    """As `cube queue list`, of the server's pool and the user's projects' queues."""
    from cubestudio.cli.queues import show_report

    with session(target) as client:
        report = client.queues()
    show_report(report, json_out=json_out)


def queue_set(
    target: Target,
    name: str,
    cpu: str | None = None,
    memory: str | None = None,
    gpu: str | None = None,
    weight: str | None = None,
    json_out: bool = False,
) -> None:
    """As `cube queue set NAME` (a platform admin's token)."""
    from cubestudio.cli.queues import changes_of, show_saved

    changes = changes_of(cpu=cpu, memory=memory, gpu=gpu, weight=weight)
    with session(target) as client:
        saved = client.set_queue(name, changes)
    show_saved(saved, json_out=json_out)
