"""Template variables (F2): commands and env values are Jinja templates rendered in a sandbox
when the task starts.

Only what the seeds' examples need is exposed. ``uuid`` and ``datetime`` are small namespaces,
never the modules themselves: a module passed in whole lets ``uuid.os.system(...)`` or
``datetime.sys.modules`` through even a sandboxed environment.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import shlex
import uuid as _uuid
from collections.abc import Iterator, Mapping
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from cubestudio.errors import RenderError

# The names a template may use. ``run_status`` exists only in the on_exit task.
VARIABLES = (
    "creator",
    "runner",
    "pipeline_id",
    "pipeline_name",
    "cluster_name",
    "execution_date",
    "run_id",
    "task_name",
    "params",
    "tasks",
    "datetime",
    "uuid",
    "run_status",
    "args",
)
EXECUTION_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
_MAX_STRING = 1_000_000

UUID_NAMESPACE = SimpleNamespace(uuid4=_uuid.uuid4, uuid1=_uuid.uuid1, UUID=_uuid.UUID)
DATETIME_NAMESPACE = SimpleNamespace(
    datetime=_dt.datetime, date=_dt.date, timedelta=_dt.timedelta, timezone=_dt.timezone
)


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with string repetition capped so a template cannot
    exhaust memory (``{{ 'a' * 10**10 }}``)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and right > 64:
            raise SecurityError("exponent too large in a template")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    if len(seq) * times > _MAX_STRING:
                        raise SecurityError("template result too large")
        return super().call_binop(context, operator, left, right)


@lru_cache(maxsize=1)
def _environment() -> _Sandbox:
    env = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.filters["quote"] = lambda value: shlex.quote(str(value))  # safe in a shell command
    return env


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def suggest(name: str, choices: Iterator[str] | list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@lru_cache(maxsize=4096)
def _compile(text: str) -> Any:
    return _environment().from_string(text)


def render(text: str, context: Mapping[str, Any]) -> str:
    """Render one template string; raises RenderError with a message a user can act on."""
    if not is_template(text):
        return text
    try:
        return _bounded(_compile(text).generate(context))
    except UndefinedError as exc:
        raise RenderError(_explain_undefined(str(exc.message), context)) from None
    except SecurityError as exc:
        raise RenderError(f"refused by the template sandbox: {exc}") from None
    except TemplateSyntaxError as exc:
        raise RenderError(f"template syntax error on line {exc.lineno}: {exc.message}") from None
    except Exception as exc:  # a user's expression failed: report it, never a traceback
        raise RenderError(f"template error: {type(exc).__name__}: {exc}") from None


def _bounded(pieces: Iterator[str]) -> str:
    """Join the rendered pieces, refusing output past the cap as it grows: a loop cannot
    build gigabytes before the check."""
    out: list[str] = []
    size = 0
    for piece in pieces:
        size += len(piece)
        if size > _MAX_STRING:
            raise SecurityError(f"the rendered text exceeds {_MAX_STRING} characters")
        out.append(piece)
    return "".join(out)


def _explain_undefined(message: str, context: Mapping[str, Any]) -> str:
    # Jinja says "'param' is undefined" or "'x' has no attribute 'y'".
    if message.endswith(" is undefined") and message.startswith("'"):
        name = message[1 : message.index("'", 1)]
        return f"unknown template variable '{name}'{suggest(name, list(context))}"
    return f"template error: {message}"


def referenced_names(text: str) -> tuple[set[str], list[tuple[str, ...]]]:
    """Statically: the top-level names a template uses, and its attribute chains
    (``tasks.count.outputs.rows`` → ("tasks", "count", "outputs", "rows")).

    Raises RenderError on a syntax error."""
    env = _environment()
    try:
        ast = env.parse(text)
    except TemplateSyntaxError as exc:
        raise RenderError(f"template syntax error on line {exc.lineno}: {exc.message}") from None
    from jinja2 import meta

    names = set(meta.find_undeclared_variables(ast))
    chains: list[tuple[str, ...]] = []
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        chain = _attribute_chain(node)
        if chain:
            chains.append(chain)
    return names, chains


def _attribute_chain(node: nodes.Node) -> tuple[str, ...] | None:
    parts: list[str] = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            parts.append(node.arg.value)
        else:
            return None
        node = node.node
    if isinstance(node, nodes.Name):
        parts.append(node.name)
        return tuple(reversed(parts))
    return None
