"""`cube rightsize PIPELINE [--apply]`: cpu and memory requests suggested from the peaks of
each task's last succeeded runs, shown with that evidence; applied only with --apply (a new
saved version), or printed as the YAML edit for a pipeline run from a file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from cubestudio.errors import StateError


def rightsize(
    pipeline: Annotated[str, typer.Argument(help="A pipeline's name (as `cube runs` shows).")],
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Save a new version of the pipeline with the suggestions."),
    ] = False,
    runs: Annotated[
        int, typer.Option("--runs", min=1, max=100, help="How many of each task's last runs.")
    ] = 10,
    policy: Annotated[
        str,
        typer.Option(
            "--policy",
            help="headroom (peak x 1.4, rounded up to 0.1 core / 64Mi) or cube-studio "
            "(ceil(peak x 1.4) + 2 cores / GiB).",
        ),
    ] = "headroom",
    project: Annotated[str, typer.Option("--project", help="The project.")] = "default",
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Suggest each task's cpu and memory requests from its peaks, with the evidence."""
    from cubestudio.cli.pipelines import _project_id
    from cubestudio.cli.setup import open_db
    from cubestudio.engine.lifecycle import current_user
    from cubestudio.monitor.report import apply_rightsize
    from cubestudio.monitor.report import rightsize as advise
    from cubestudio.monitor.rightsize import POLICIES

    chosen = POLICIES.get(policy)
    if chosen is None:
        raise StateError(f"--policy {policy!r}: use one of {', '.join(POLICIES)}")
    db = open_db()
    project_id = _project_id(db, project)
    with db.begin() as conn:
        report = advise(conn, project_id=project_id, name=pipeline, runs=runs, policy=chosen)
        saved = None
        if apply and report["version"] > 0:
            saved = apply_rightsize(
                conn,
                project_id=project_id,
                report=report,
                author=current_user(),
                now=datetime.now(UTC),
            )
    result = {k: v for k, v in report.items() if k not in ("advice", "data", "pipeline_id")}
    result["applied_version"] = saved
    show(result, report["advice"], apply=apply, json_out=json_out)


def show(result: dict[str, Any], advice: list[Any], *, apply: bool, json_out: bool) -> None:
    """Print the advice (``result``: the `--json` object less ``yaml_change``, which is
    added here; ``advice``: its TaskAdvice list); exit 1 when --apply was asked of a
    pipeline run from a file, whose file is the one to change."""
    from cubestudio.cli.output import print_json
    from cubestudio.monitor.rightsize import yaml_change

    change = yaml_change(advice)
    result["yaml_change"] = change if result["version"] == 0 else None
    if json_out:
        print_json(result)
    else:
        _print(result, advice)
    if apply and result["version"] == 0 and change:
        typer.echo(
            f"pipeline {result['pipeline']} is run from a file, not saved: make the change "
            "above in its file (or `cube pipeline save` it, then --apply)",
            err=True,
        )
        raise typer.Exit(1)


def _print(result: dict[str, Any], advice: list[Any]) -> None:
    from rich.table import Table

    from cubestudio.cli.output import stdout_console
    from cubestudio.cli.top import human_bytes
    from cubestudio.monitor.rightsize import format_cpu, format_memory

    console = stdout_console()
    table = Table(box=None, pad_edge=False, title_justify="left")
    table.title = (
        f"pipeline {result['pipeline']}: each task's last {result['runs']} succeeded runs, "
        f"policy {result['policy']}"
    )
    for name in ("task", "runs", "peak cpu", "peak rss", "cpu now", "cpu", "memory now", "memory"):
        table.add_column(name, justify="left" if name == "task" else "right")
    for item in advice:
        peaks = item.evidence
        table.add_row(
            item.task,
            str(len(peaks)),
            f"{max(p.cpu_max for p in peaks):.0f}%" if peaks else "-",
            human_bytes(max(p.rss_max for p in peaks)) if peaks else "-",
            format_cpu(item.current_cpu),
            format_cpu(item.cpu) if peaks else "-",
            format_memory(item.current_memory),
            format_memory(item.memory) if peaks else "-",
            style="bold" if item.changed else "dim",
        )
    console.print(table)
    for item in advice:  # the evidence, run by run
        if item.evidence:
            runs = ", ".join(
                f"{p.run_id[:8]} {p.cpu_max:.0f}% {human_bytes(p.rss_max)}" for p in item.evidence
            )
            console.print(f"  {item.task}: {runs}", markup=False)
    if result["applied_version"] is not None:
        console.print(f"saved as version {result['applied_version']}")
    elif result["yaml_change"]:
        console.print("the change to make in the pipeline's file:")
        console.print(result["yaml_change"], markup=False, end="")
    elif not any(item.changed for item in advice):
        console.print(
            "nothing to change"
            if any(a.evidence for a in advice)
            else "no runs with samples yet: run the pipeline (tasks are sampled while they run)"
        )
    else:
        console.print("run again with --apply to save these as a new version")
