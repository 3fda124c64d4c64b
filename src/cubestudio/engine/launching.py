"""Launching ready tasks (part of the run controller, engine/controller.py): admission
first (engine/gate.py: a task with resources, or distributed, waits for its queue and the
pool), then the attempt's launch request, rendered, with its GPU indices and, for a
distributed task, its gang's launch plan (engine/distributed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cubestudio.engine import demands
from cubestudio.engine.context import render_task
from cubestudio.engine.controller_parts import ControllerParts
from cubestudio.engine.distributed import LocalPorts
from cubestudio.engine.launcher import AttemptKey, LaunchRequest
from cubestudio.engine.nodes import AttemptNode, TaskNode
from cubestudio.engine.states import AttemptState, TaskState
from cubestudio.errors import RenderError, SpecError
from cubestudio.spec.template import TemplateSpec


class Launching(ControllerParts):
    def _slots_left(self) -> int:
        """Tasks that may still start under the run's parallelism (those waiting for
        admission count: a grant must not take the run over it)."""
        return self.spec.parallelism - self.counts[TaskState.RUNNING] - len(self._admitting)

    def _launch_ready(self, now: datetime) -> None:
        while self._ready and self._slots_left() > 0:
            node = self._ready.popleft()
            if node.status is not TaskState.QUEUED or node.name in self._admitting:
                continue
            template = self._template_of(node)
            if node.name in self._grants or self.gate is None:
                self._launch(node, now)  # no admission, or granted before a restart
            elif not demands.admitted(node, template):
                self._launch(node, now)
            else:
                self._submit(node, template, now)

    def _template_of(self, node: TaskNode) -> TemplateSpec | None:
        return self.templates.get(node.spec.template) if node.spec.template else None

    def _submit(self, node: TaskNode, template: TemplateSpec | None, now: datetime) -> None:
        assert self.gate is not None
        workers = demands.gang_size(node, template) if template is not None else 1
        need = demands.need_of(demands.resources_of(node, template))
        problem = self.gate.never_fits(need, workers)
        if problem is not None:  # this process's pool cannot ever hold it: say so, not wait
            self._launch(node, now, refused=problem)
            return
        self.gate.submit(
            (self.run_id, node.name),
            queue=self.queue,
            need=need,
            workers=workers,
            priority=demands.priority_of(node, self.spec),
            now=now,
        )
        self._admitting[node.name] = node

    def _apply_admission(self, now: datetime) -> None:
        """Launch what the gate granted to this run; note why the others wait."""
        assert self.gate is not None
        grants, reasons = self.gate.take(self.run_id)
        for name, reason in reasons.items():
            node = self._admitting.get(name)
            if node is not None and node.message != reason:
                node.message = reason
                self._batch.tasks[name] = node
        for name, grant in grants.items():
            node = self._admitting.pop(name, None)
            if node is None or node.status is not TaskState.QUEUED:
                self.gate.release((self.run_id, name))
                self._batch.allocations_dropped.append(name)
                continue
            self._grants[name] = grant
            self._launch(node, now)
        if grants:
            self._maybe_finish_run(now)

    def _held_allocations(self) -> dict[str, Any]:
        """The run's allocation rows (an earlier engine admitted its tasks)."""
        if self.gate is None:
            return {}
        from cubestudio.store import queues as queue_store

        with self.db.begin() as conn:  # this process's from now on
            held = queue_store.adopt_allocations(conn, run_id=self.run_id, owner=self.gate.owner)
        return dict(held)

    def _free_grant(self, node: TaskNode) -> None:
        """The task's attempt ended, or it will not start: what it held goes back."""
        if self._grants.pop(node.name, None) is not None and self.gate is not None:
            self.gate.release((self.run_id, node.name))
            self._batch.allocations_dropped.append(node.name)

    def _launch(self, node: TaskNode, now: datetime, *, refused: str | None = None) -> None:
        """Start the task's next attempt; ``refused``: fail it at once with that reason."""
        number = node.attempts + 1
        key = AttemptKey(self.run_id, node.name, number)
        attempt = AttemptNode(
            number=number,
            status=AttemptState.RUNNING,
            started_at=now,
            engine_id=self.lease.owner.rsplit("/", 1)[0] if self.lease else None,
        )
        node.attempt = attempt
        self._batch.new_attempts.append((node.name, attempt))
        request: LaunchRequest | None = None
        try:
            if refused is None:
                request = self._request(node, number)
        except RenderError as err:
            refused = f"cannot render the task's templates: {err}"
        if request is None:  # it fails before anything runs: an attempt says why
            assert refused is not None
            self._move(node, TaskState.RUNNING, now, attempts=number, started_at=now)
            self._note(key, refused)
            self._end_attempt(node, AttemptState.FAILED, now, None, refused)
            self._settle(node, TaskState.FAILED, now, refused)
            return
        if node.spec.timeout is not None:
            attempt.deadline = now + timedelta(seconds=node.spec.timeout)
            self._timers.set(attempt.deadline, "timeout", node, number)
        self._move(
            node,
            TaskState.RUNNING,
            now,
            attempts=number,
            started_at=node.started_at or now,
            exit_code=None,
            message=None,
        )
        self._launches.append(request)

    def _request(self, node: TaskNode, number: int) -> LaunchRequest:
        """What the driver runs: the rendered command and env. Raises RenderError."""
        exit_status = self._run_outcome() if node.is_exit else None
        template = self.templates.get(node.spec.template) if node.spec.template else None
        if node.spec.template and template is None:
            raise RenderError(f"template {node.spec.template} was not resolved for this run")
        rendered = render_task(
            node, self.base_context, self.spec.env, self.by_name, exit_status, template
        )
        env = rendered.env
        for name in self.spec.secrets:
            if name not in (self._secrets or {}):
                raise RenderError(
                    f"secret env {name} is not available: it was not set when the run started"
                )
            env[name] = (self._secrets or {})[name]
        env.update(
            CUBE_RUN_ID=self.run_id,
            CUBE_TASK_NAME=node.name,
            CUBE_ATTEMPT=str(number),
            CUBE_EXECUTION_DATE=str(self.base_context["execution_date"]),
            CUBE_PIPELINE_NAME=self.spec.name,
            CUBE_PIPELINE_DIR=self.spec.pipeline_dir or "",
        )
        grant = self._grants.get(node.name)
        if demands.kind_of(template) and template is not None:
            return LaunchRequest(
                AttemptKey(self.run_id, node.name, number),
                rendered.command,
                env,
                rendered.workdir,
                gang=self._gang(node, template, rendered.command, rendered.args or {}, env),
            )
        if grant is not None and self.gate is not None and self.gate.pool.gpus:
            env["CUDA_VISIBLE_DEVICES"] = grant.cuda_visible_devices(0)  # "" hides them all
        key = AttemptKey(self.run_id, node.name, number)
        return LaunchRequest(key, rendered.command, env, rendered.workdir)

    def _gang(
        self,
        node: TaskNode,
        template: TemplateSpec,
        command: str,
        args: dict[str, Any],
        env: dict[str, str],
    ) -> dict[str, Any]:
        """The distributed task's launch plan for the driver. Raises RenderError."""
        try:
            plan = demands.gang_plan(
                node,
                template,
                command=command,
                args=args,
                env_names=sorted(env),
                grant=self._grants.get(node.name),
                ports=LocalPorts(),
            )
        except SpecError as err:
            raise RenderError(f"args of {template.ref}: {err}") from None
        # the members are stopped before the engine SIGKILLs the supervisor itself
        return {"plan": plan.to_data(), "kill_grace": self.kill_grace * 0.8}
