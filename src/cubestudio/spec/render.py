"""Template variables (F2): commands, env values and job template args are Jinja templates
rendered in a sandbox when the task starts.

Only what the seeds' examples need is exposed. ``uuid`` and ``datetime`` are small namespaces,
never the modules themselves: a module passed in whole lets ``uuid.os.system(...)`` or
``datetime.sys.modules`` through even a sandboxed environment. They are added here, at render
time, so that the context a caller gives stays plain JSON (it crosses a pipe to the renderer
process, see ``renderer.py``).

The sandbox refuses the cheap ways to ask for gigabytes or hours at once (huge repetition,
powers, format widths, padding, ``wordwrap`` of a book) with a clear message; what it cannot
foresee (a loop of 10^10 turns) is bounded by the renderer process's time and memory budget.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
import shlex
import uuid as _uuid
from collections.abc import Iterator, Mapping
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from jinja2 import (
    StrictUndefined,
    TemplateSyntaxError,
    UndefinedError,
    nodes,
    pass_environment,
    pass_eval_context,
)
from jinja2.exceptions import SecurityError
from jinja2.filters import do_center, do_format, do_indent, do_join, do_wordwrap
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter

from cubestudio.errors import RenderError

# The names a template may use. ``run_status`` exists only in the on_exit task.
VARIABLES = (
    "creator",
    "runner",
    "pipeline_id",
    "pipeline_name",
    "pipeline_dir",
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
_MAX_STRING = 1_000_000  # characters in a rendered text, or in any string built on the way
_MAX_INT_BITS = 65_536  # ints past this are no use in a command (str() refuses 4300+ digits)
_MAX_WORDWRAP = 20_000  # textwrap is quadratic: 20,000 characters wrap in about 0.1 s

UUID_NAMESPACE = SimpleNamespace(uuid4=_uuid.uuid4, uuid1=_uuid.uuid1, UUID=_uuid.UUID)
DATETIME_NAMESPACE = SimpleNamespace(
    datetime=_dt.datetime, date=_dt.date, timedelta=_dt.timedelta, timezone=_dt.timezone
)
NAMESPACES = {"datetime": DATETIME_NAMESPACE, "uuid": UUID_NAMESPACE}

# One %-conversion: flags, width and precision (``*`` takes them from the arguments).
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_PADDING_METHODS = frozenset({"ljust", "rjust", "center", "zfill"})


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with the operations that can ask for unbounded memory or
    time in one step capped (``{{ 'a' * 10**10 }}``, ``{{ 'a'.ljust(10**9) }}``)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_product(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_percent_format(left)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _check_str_method(owner, getattr(__obj, "__name__", ""), args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        """``str.format``/``format_map`` as Jinja sandboxes them, with each field's width
        checked once known (``'{:{}}'.format(1, 10**9)`` too)."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None or type(value.__self__) is not str:
            return wrapped
        fmt, is_map, formatter = value.__self__, value.__name__ == "format_map", _Formatter(self)

        def format_checked(*args: Any, **kwargs: Any) -> str:
            if not is_map:
                return formatter.vformat(fmt, args, kwargs)
            if kwargs or len(args) != 1:
                return str(wrapped(*args, **kwargs))  # raises Python's own TypeError
            return formatter.vformat(fmt, (), args[0])

        return format_checked


class _Formatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        # Every number in a format spec is a width or a precision (or a digit used as the
        # fill character, harmless to check).
        for number in re.findall(r"\d+", format_spec):
            _check_width(int(number), "format width")
        return super().format_field(value, format_spec)


def _check_power(left: Any, right: Any) -> None:
    if not (isinstance(right, int) and isinstance(left, int)) or right <= 1:
        return
    if right > 64 and abs(left) > 1:
        raise SecurityError("exponent too large in a template")
    if abs(left).bit_length() * right > _MAX_INT_BITS:
        raise SecurityError(f"number too large in a template (over {_MAX_INT_BITS} bits)")


def _check_product(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if abs(left).bit_length() + abs(right).bit_length() > _MAX_INT_BITS:
            raise SecurityError(f"number too large in a template (over {_MAX_INT_BITS} bits)")
        return
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int):
            if len(seq) * times > _MAX_STRING:
                raise SecurityError("template result too large")


def _check_width(value: int, what: str) -> None:
    if value > _MAX_STRING:
        raise SecurityError(f"{what} {value} is too large in a template (at most {_MAX_STRING})")


def _check_percent_format(fmt: str) -> None:
    """``'%1000000000d' % 1`` builds a gigabyte string before any output cap sees it."""
    if "%" not in fmt:
        return
    for match in _PERCENT_SPEC.finditer(fmt):
        for group in match.groups():
            if group == "*":
                raise SecurityError("'*' widths are not allowed in a template: write the number")
            if group:
                _check_width(int(group), "format width")


def _check_str_method(owner: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    given = [*args, *kwargs.values()]
    if name in _PADDING_METHODS and given and isinstance(given[0], int):
        _check_width(given[0], f"{name} width")
    elif name == "expandtabs":
        size = given[0] if given and isinstance(given[0], int) else 8
        _check_width(owner.count("\t") * size + len(owner), "expandtabs result")
    elif name == "join" and given and isinstance(given[0], list | tuple):
        _check_width(_joined_size(given[0], owner), "join result")
    elif name == "replace" and len(given) >= 2 and isinstance(given[1], str):
        old, new = given[0], given[1]
        if isinstance(old, str) and len(new) > len(old):
            count = owner.count(old) if old else len(owner) + 1
            if len(given) >= 3 and isinstance(given[2], int) and given[2] >= 0:
                count = min(count, given[2])
            _check_width(len(owner) + count * (len(new) - len(old)), "replace result")


def _joined_size(items: list[Any] | tuple[Any, ...], separator: str) -> int:
    strings = sum(len(item) for item in items if isinstance(item, str))
    return strings + len(separator) * max(0, len(items) - 1)


# Filters that pad, join or wrap, capped like the str methods above.
@pass_eval_context
def _join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> str:
    if isinstance(value, list | tuple) and attribute is None:
        _check_width(_joined_size(value, str(d)), "join result")
    return str(do_join(eval_ctx, value, d, attribute))


def _center(value: Any, width: int = 80) -> str:
    _check_width(width, "center width")
    return do_center(value, width)


def _indent(s: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    size = len(width) if isinstance(width, str) else width
    _check_width((str(s).count("\n") + 1) * size + len(str(s)), "indent result")
    return do_indent(s, width, first, blank)


@pass_environment
def _wordwrap(environment: Any, s: str, width: int = 79, *args: Any, **kwargs: Any) -> str:
    if len(str(s)) > _MAX_WORDWRAP:
        raise SecurityError(
            f"wordwrap takes at most {_MAX_WORDWRAP} characters in a template (got {len(s)})"
        )
    return do_wordwrap(environment, s, width, *args, **kwargs)


def _format(value: str, *args: Any, **kwargs: Any) -> str:
    _check_percent_format(str(value))
    return do_format(value, *args, **kwargs)


@lru_cache(maxsize=1)
def _environment() -> _Sandbox:
    env = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.filters["quote"] = lambda value: shlex.quote(str(value))  # safe in a shell command
    env.filters.update(
        center=_center, indent=_indent, join=_join, wordwrap=_wordwrap, format=_format
    )
    del env.globals["lipsum"]  # lipsum(10**6) is a megabyte of Latin and no use in a command
    return env


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def suggest(name: str, choices: Iterator[str] | list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# A task name with a hyphen read as an attribute (``tasks.make-data.outputs.x``) would parse as
# a subtraction; it is read as ``tasks['make-data']``. String literals are left as they are.
_DELIMITED = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_HYPHENATED = re.compile(
    r"(\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*')"
    r"|(?<![\w.])tasks\.([A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)+)"
)


def _hyphenated_names(text: str) -> str:
    if "-" not in text or "tasks." not in text:
        return text

    def fix(match: re.Match[str]) -> str:
        return match.group(1) or f"tasks['{match.group(2)}']"

    return _DELIMITED.sub(lambda block: _HYPHENATED.sub(fix, block.group(0)), text)


@lru_cache(maxsize=4096)
def _compile(text: str) -> Any:
    return _environment().from_string(_hyphenated_names(text))


def render(text: str, context: Mapping[str, Any]) -> str:
    """Render one template string in this process; raises RenderError with a message a user
    can act on. The engine renders through ``renderer.Renderer``, which adds a time and a
    memory budget; MemoryError is left to it."""
    if not is_template(text):
        return text
    try:
        return _bounded(_compile(text).generate({**NAMESPACES, **context}))
    except MemoryError:
        raise
    except UndefinedError as exc:
        raise RenderError(_explain_undefined(str(exc.message), {**NAMESPACES, **context})) from None
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


@lru_cache(maxsize=4096)
def referenced_names(text: str) -> tuple[frozenset[str], tuple[tuple[str, ...], ...]]:
    """Statically: the top-level names a template uses, and its attribute chains
    (``tasks.count.outputs.rows`` → ("tasks", "count", "outputs", "rows")).

    Cached: the engine asks for every task it renders, and parsing costs more than
    rendering. Raises RenderError on a syntax error."""
    env = _environment()
    try:
        ast = env.parse(_hyphenated_names(text))
    except TemplateSyntaxError as exc:
        raise RenderError(f"template syntax error on line {exc.lineno}: {exc.message}") from None
    from jinja2 import meta

    names = frozenset(meta.find_undeclared_variables(ast))
    chains: list[tuple[str, ...]] = []
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        chain = _attribute_chain(node)
        if chain:
            chains.append(chain)
    return names, tuple(chains)


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
