"""Python SDK: define a pipeline in code; ``build()`` gives the same PipelineSpec as YAML.

    with Pipeline("diamond", params={"lr": 0.01}) as p:
        prepare = Task("prepare", command="echo prep")
        train = Task("train", command="echo {{ params.lr }}", depends=[prepare])
        prepare >> Task("report", command="echo done")
    spec = p.build()

Tasks created inside ``with Pipeline(...)`` join it (collected through a ContextVar, as hera
does); a duplicate name fails at once, where the task is written.
"""

from __future__ import annotations

import os
import runpy
import traceback
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml

from cubestudio.errors import FieldError, SpecError
from cubestudio.spec.model import PipelineSpec
from cubestudio.spec.template import TemplateCatalog

_current: ContextVar[Pipeline | None] = ContextVar("cube_pipeline", default=None)
_created: ContextVar[list[Pipeline] | None] = ContextVar("cube_created", default=None)


class Task:
    def __init__(
        self,
        name: str,
        command: str | list[str] | None = None,
        *,
        template: str | None = None,
        args: dict[str, Any] | None = None,
        depends: list[Task | str] | None = None,
        on_exit: bool = False,
        **fields: Any,
    ) -> None:
        self.name = name
        self.command = command
        self.template = template
        self.args = dict(args or {})
        self.depends: list[str] = [d.name if isinstance(d, Task) else d for d in depends or []]
        self.fields = fields
        pipeline = _current.get()
        if pipeline is None:
            raise SpecError([FieldError("", f"Task('{name}') must be created inside a Pipeline")])
        pipeline.add(self, on_exit=on_exit)

    def __rshift__(self, other: Task | list[Task]) -> Task | list[Task]:
        """``a >> b``: b depends on a (and ``a >> [b, c]``)."""
        for task in other if isinstance(other, list) else [other]:
            if self.name not in task.depends:
                task.depends.append(self.name)
        return other

    def output(self, name: str) -> str:
        """The template reference to one of this task's outputs."""
        return "{{ tasks." + self.name + ".outputs." + name + " }}"

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        if self.command is not None:
            data["command"] = self.command
        if self.template is not None:
            data["template"] = self.template
        if self.args:
            data["args"] = dict(self.args)
        if self.depends:
            data["depends"] = list(self.depends)
        data.update(self.fields)
        return data


class Pipeline:
    def __init__(self, name: str, **fields: Any) -> None:
        self.name = name
        self.fields = fields
        self.tasks: list[Task] = []
        self.exit_task: Task | None = None
        self._token: Any = None
        created = _created.get()
        if created is not None:
            created.append(self)

    def __enter__(self) -> Pipeline:
        self._token = _current.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._token)

    def add(self, task: Task, *, on_exit: bool = False) -> None:
        names = [t.name for t in self.tasks] + ([self.exit_task.name] if self.exit_task else [])
        if task.name in names:
            raise SpecError(
                [FieldError("tasks", f"duplicate task name '{task.name}' in pipeline {self.name}")]
            )
        if on_exit:
            if self.exit_task is not None:
                raise SpecError([FieldError("on_exit", "a pipeline has one on_exit task")])
            self.exit_task = task
        else:
            self.tasks.append(task)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, **self.fields}
        data["tasks"] = [task.to_data() for task in self.tasks]
        if self.exit_task is not None:
            data["on_exit"] = self.exit_task.to_data()
        return data

    def build(
        self, catalog: TemplateCatalog | None = None, *, pipeline_dir: str | None = None
    ) -> PipelineSpec:
        """The validated spec; with a catalog, template args are checked too.
        ``pipeline_dir``: the folder of the file that defines the pipeline."""
        from cubestudio.spec.loader import pipeline_from_data

        return pipeline_from_data(self.to_data(), catalog=catalog, pipeline_dir=pipeline_dir)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.build().to_data(), sort_keys=False)


def load_python_pipeline(
    path: Path, catalog: TemplateCatalog | None = None, *, pipeline_dir: str | None = None
) -> PipelineSpec:
    """Run a Python file and build the one Pipeline it defines."""
    created: list[Pipeline] = []
    token = _created.set(created)
    try:
        namespace = runpy.run_path(str(path), run_name="__cube_pipeline__")
    except SpecError:
        raise
    except Exception as exc:
        line = _line_of(exc, path)
        where = f"{path}:{line}" if line else str(path)
        text = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        raise SpecError([FieldError("", f"{where}: {type(exc).__name__}: {text}")]) from None
    finally:
        _created.reset(token)
    chosen = namespace.get("pipeline")
    if not isinstance(chosen, Pipeline):
        if len(created) != 1:
            raise SpecError(
                [
                    FieldError(
                        "",
                        f"{path} defines {len(created)} pipelines; define one, "
                        "or name the one to run `pipeline`",
                    )
                ]
            )
        chosen = created[0]
    return chosen.build(catalog, pipeline_dir=pipeline_dir)


def _line_of(exc: BaseException, path: Path) -> int | None:
    """The line of the pipeline file where ``exc`` was raised (the innermost frame in that
    file), or where a SyntaxError is."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return exc.lineno
    target = os.path.realpath(path)
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.lineno and os.path.realpath(frame.filename) == target
    ]
    return lines[-1] if lines else None
