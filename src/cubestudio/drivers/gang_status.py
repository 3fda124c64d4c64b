"""What the gang supervisor (drivers/gang.py) left in a distributed attempt's folder, read
back for the API and the run view: each member's role, rank, ports, GPUs and state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cubestudio.drivers.gang_usage import read_series, read_usage
from cubestudio.engine.distributed import LaunchPlan


def _line(path: Path) -> str | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    return text[:-1] if text.endswith("\n") else None


def gang_status(folder: Path, *, finished: bool, series: bool = False) -> dict[str, Any] | None:
    """The attempt's members, or None when the attempt has no gang (not distributed, or its
    launch never began). ``finished``: the attempt ended (a member with no exit status was
    then stopped with the others)."""
    try:
        data = json.loads((folder / "gang.json").read_text())
    except (OSError, ValueError):
        return None
    plan = LaunchPlan.from_data(data.get("plan"))
    members = []
    for spec in plan.workers:
        own = folder / "workers" / spec.name
        code = _line(own / "exit")
        started = (own / "pid").exists()
        if spec.command is None:
            state = "booked"  # mpirun starts its ranks: no process of its own
        elif code is not None:
            state = "succeeded" if code == "0" else "failed"
        elif started:
            state = "stopped" if finished else "running"
        else:
            state = "not_started" if finished else "starting"
        members.append(
            {
                "name": spec.name,
                "role": str(spec.role),
                "rank": spec.rank,
                "host": spec.host,
                "ports": spec.ports,
                "gpus": spec.env.get("CUDA_VISIBLE_DEVICES"),
                "service": spec.service,
                "state": state,
                "exit_code": int(code) if code is not None and code.lstrip("-").isdigit() else None,
                # its own process tree's latest CPU %, RSS (and GPU) and peaks (gang_usage.py)
                "usage": read_usage(str(own)),
                **({"series": read_series(str(own))} if series else {}),
            }
        )
    return {
        "kind": str(plan.kind),
        "on_failure": str(plan.failure.on_failure),
        "max_restarts": plan.failure.max_restarts,
        "failure": _line(folder / "failure"),
        "workers": members,
    }
