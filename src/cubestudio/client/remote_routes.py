"""Which `cube` commands have a remote side: cli/remote.py points a command at its entry
here when a server is chosen; a command missing here refuses with one line (exit 2)."""

from __future__ import annotations

from collections.abc import Callable

from cubestudio.client.remote_cli import (
    logs,
    rerun,
    retry,
    run,
    runs,
    runs_delete,
    show,
    stop,
    submit,
    validate,
    wait,
)
from cubestudio.client.remote_monitor import queue_list, queue_set, rightsize, top
from cubestudio.client.remote_schedule import (
    backfill,
    schedule_apply,
    schedule_clear,
    schedule_list,
    schedule_pause,
    schedule_plan,
    schedule_records,
    schedule_unpause,
)
from cubestudio.client.remote_templates import (
    template_delete,
    template_export,
    template_list,
    template_register,
    template_show,
)

ROUTES: dict[str, Callable[..., None] | dict[str | None, Callable[..., None]]] = {
    "run": run,
    "submit": submit,
    "wait": wait,
    "show": show,
    "stop": stop,
    "retry": retry,
    "rerun": rerun,
    "logs": logs,
    "validate": validate,
    "runs": {None: runs, "delete": runs_delete},
    "schedule": {
        "plan": schedule_plan,
        "list": schedule_list,
        "pause": schedule_pause,
        "unpause": schedule_unpause,
        "apply": schedule_apply,
        "records": schedule_records,
        "clear": schedule_clear,
    },
    "backfill": backfill,
    "top": top,
    "rightsize": rightsize,
    "queue": {"list": queue_list, "set": queue_set},
    "template": {
        "list": template_list,
        "show": template_show,
        "export": template_export,
        "register": template_register,
        "delete": template_delete,
    },
}
