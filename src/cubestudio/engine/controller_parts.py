"""What the run controller's parts share: the controller (engine/controller.py) is one class
made of mixins by concept (launching.py, stopping.py, restoring.py), each reading and
changing the same state. This base only declares that state and the controller's own moves
for the type checker; it holds nothing at run time."""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cubestudio.engine.admission import Grant
    from cubestudio.engine.artifacts import ArtifactStore
    from cubestudio.engine.batch import TurnBatch
    from cubestudio.engine.gate import AdmissionGate
    from cubestudio.engine.launcher import AttemptKey, Launcher, LaunchRequest
    from cubestudio.engine.lease import Lease
    from cubestudio.engine.nodes import TaskNode
    from cubestudio.engine.states import TaskState
    from cubestudio.engine.timers import Timers
    from cubestudio.spec.model import PipelineSpec
    from cubestudio.spec.template import TemplateSpec
    from cubestudio.store.db import Database

STOP, TIMEOUT, RUN_TIMEOUT = "stop", "timeout", "run_timeout"


class ControllerParts:
    if TYPE_CHECKING:
        db: Database
        launcher: Launcher
        run_id: str
        spec: PipelineSpec
        nodes: list[TaskNode]
        by_name: dict[str, TaskNode]
        exit_node: TaskNode | None
        base_context: dict[str, Any]
        kill_grace: float
        templates: dict[str, TemplateSpec]
        artifacts: ArtifactStore | None
        message: str | None
        counts: dict[TaskState, int]
        lease: Lease | None
        gate: AdmissionGate | None
        queue: str
        _secrets: dict[str, str] | None
        _ready: deque[TaskNode]
        _timers: Timers
        _stopping: str | None
        _lost: set[AttemptKey]
        _batch: TurnBatch
        _launches: list[LaunchRequest]
        _signals: list[tuple[AttemptKey, int]]
        _admitting: dict[str, TaskNode]
        _grants: dict[str, Grant]

        @property
        def done(self) -> bool: ...

        @property
        def _run_active(self) -> bool: ...

        def _move(
            self, node: TaskNode, target: TaskState, now: datetime, **fields: Any
        ) -> None: ...

        def _settle(
            self, node: TaskNode, target: TaskState, now: datetime, message: str | None
        ) -> None: ...

        def _note(self, key: AttemptKey, line: str) -> None: ...

        def _fail(self, node: TaskNode, now: datetime, code: int | None, message: str) -> None: ...

        def _end_attempt(
            self, node: TaskNode, status: Any, now: datetime, code: int | None, message: str | None
        ) -> None: ...

        def _evaluate(self, node: TaskNode, now: datetime, cause: TaskNode | None) -> bool: ...

        def _propagate(self, node: TaskNode, now: datetime) -> None: ...

        def _maybe_finish_run(self, now: datetime) -> None: ...

        def _run_outcome(self) -> str: ...

        def _launch(self, node: TaskNode, now: datetime) -> None: ...

        def _request(self, node: TaskNode, number: int) -> LaunchRequest: ...

        def _kill(self, node: TaskNode, now: datetime, reason: str) -> None: ...

        def _begin_stop(self, now: datetime, reason: str) -> None: ...
