"""Fault injection for the crash tests: ``CUBE_FAILPOINT=<point>:<task>`` makes the engine
SIGKILL itself at that point, the way a real crash would stop it (nothing flushed, nothing
cleaned up). Points: ``before_launch`` (launch committed, process not started),
``after_launch`` (process started, nothing more recorded), ``retry_pending`` (a failed try
recorded, its retry waiting), ``before_collect`` (the task ended, its end not yet recorded).
"""

from __future__ import annotations

import os
import signal

from cubestudio.settings import get_settings

_ARMED = get_settings().failpoint


def hit(point: str, task: str) -> None:
    if _ARMED is not None and _ARMED == f"{point}:{task}":
        os.kill(os.getpid(), signal.SIGKILL)
