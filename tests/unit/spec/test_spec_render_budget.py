"""Rendering has a time and a memory budget (issue 10, item 5): the sandbox refuses the cheap
attacks at once, and the renderer process bounds what no check can foresee."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from cubestudio.errors import RenderError
from cubestudio.procinfo import start_time
from cubestudio.spec.render import render
from cubestudio.spec.renderer import MEMORY_LIMIT, Renderer

NESTED_LOOP = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


def refused(text: str) -> str:
    started = time.monotonic()
    with pytest.raises(RenderError) as info:
        render(text, {})
    assert time.monotonic() - started < 1.0, "a cheap refusal must be instant"
    return str(info.value)


# --- the sandbox's cheap refusals ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ '%1000000000d' % 1 }}", "format width 1000000000 is too large in a template"),
        ("{{ '%.1000000000f' % 1.0 }}", "format width 1000000000 is too large in a template"),
        ("{{ '%(a)1000000000s' % {'a': 1} }}", "format width 1000000000 is too large"),
        ("{{ '%*d' % (1000000000, 1) }}", "'*' widths are not allowed in a template"),
        ("{{ '%1000000000d' | format(1) }}", "format width 1000000000 is too large"),
        ("{{ '{:1000000000}'.format(1) }}", "format width 1000000000 is too large"),
        ("{{ '{:{}}'.format(1, 1000000000) }}", "format width 1000000000 is too large"),
        ("{{ '{x:>1000000000}'.format_map({'x': 1}) }}", "format width 1000000000 is too"),
        ("{{ 'a'.ljust(10**9) }}", "ljust width 1000000000 is too large in a template"),
        ("{{ 'a'.rjust(10**9, 'b') }}", "rjust width 1000000000 is too large"),
        ("{{ 'a'.center(10**9) }}", "center width 1000000000 is too large"),
        ("{{ 'a'.zfill(10**9) }}", "zfill width 1000000000 is too large"),
        ("{{ ('\t' * 1000).expandtabs(10**6) }}", "expandtabs result 1000001000 is too large"),
        ("{{ ('a' * 10**6).replace('a', 'aa') }}", "replace result 2000000 is too large"),
        ("{{ ''.replace('', 'a' * 10**6, 1) ~ ('ab' * 10**5).replace('', 'x' * 9) }}", "replace"),
        ("{{ ',' .join(['a' * 10**6] * 2) }}", "join result 2000001 is too large"),
        ("{{ (['a' * 10**6] * 1000) | join }}", "join result 1000000000 is too large"),
        ("{{ 'a' | center(10**9) }}", "center width 1000000000 is too large"),
        ("{{ ('a\n' * 10**5) | indent(10**4) }}", "indent result 1000210000 is too large"),
        ("{{ ('a ' * 10**5) | wordwrap(3) }}", "wordwrap takes at most 20000 characters"),
        ("{{ ((9**64)**64)**64 }}", "number too large in a template (over 65536 bits)"),
        ("{{ 2 ** 100 }}", "exponent too large in a template"),
    ],
)
def test_cheap_attacks_are_refused_at_once(text: str, message: str) -> None:
    got = refused(text)
    assert got.startswith("refused by the template sandbox: "), got
    assert message in got


def test_a_squaring_loop_is_refused_before_it_grows() -> None:
    text = (
        "{% set ns = namespace(x=3**64) %}"
        "{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}{{ ns.x > 0 }}"
    )
    assert "number too large in a template" in refused(text)


def test_lipsum_is_gone() -> None:
    assert refused("{{ lipsum(10**6) }}") == "unknown template variable 'lipsum'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ '%5d|%-3s|%.2f|%%' % (1, 'a', 3.14159) }}", "    1|a  |3.14|%"),
        ("{{ '%s-%s' | format('a', 'b') }}", "a-b"),
        ("{{ '{:>4}|{}'.format('x', 'y') }}", "   x|y"),
        ("{{ '{a}'.format_map({'a': 1}) }}", "1"),
        ("{{ 'a'.ljust(3) }}|{{ '7'.zfill(3) }}|{{ 'b' | center(3) }}|", "a  |007| b |"),
        (
            "{{ 'a-b'.replace('-', '--') }} {{ ['x', 'y'] | join(',') }} {{ ','.join('ab') }}",
            "a--b x,y a,b",
        ),
        ("{{ 2 ** 64 }} {{ (2 ** 60) * (2 ** 60) }}", f"{2**64} {2**120}"),
        ("{{ 'one two three' | wordwrap(9) }}", "one two\nthree"),
        ("{{ 'a\nb' | indent(2) }}", "a\n  b"),
    ],
)
def test_ordinary_uses_still_work(text: str, expected: str) -> None:
    assert render(text, {}) == expected


def test_the_format_method_stays_sandboxed() -> None:
    got = refused("{{ '{0.__class__.__mro__}'.format(1) }}")
    assert got.startswith("refused by the template sandbox: access to attribute '__class__'")


def test_format_map_with_a_wrong_call_reports_python_error() -> None:
    assert "format_map() takes exactly one argument" in refused("{{ '{x}'.format_map() }}")


# --- hyphenated task names -------------------------------------------------------------------


def test_hyphenated_task_names_read_as_names() -> None:
    context = {"tasks": {"make-data": {"outputs": {"rows": "5"}}}}
    text = "{{ tasks.make-data.outputs.rows }} {{ 'tasks.a-b' }} tasks.keep-me {{ 7-2 }}"
    assert render(text, context) == "5 tasks.a-b tasks.keep-me 5"


# --- the renderer process --------------------------------------------------------------------


@pytest.fixture
def renderer() -> Iterator[Renderer]:
    made = Renderer(timeout=1.0)
    yield made
    made.close()


def test_the_renderer_renders_in_its_process(renderer: Renderer) -> None:
    texts = ["a {{ params.lr | quote }}", "plain", "{{ uuid.uuid4().hex | length }}"]
    assert renderer.render_many(texts, {"params": {"lr": "x y"}}) == ["a 'x y'", "plain", "32"]
    assert renderer._proc is not None and renderer._proc.pid


def test_plain_texts_never_start_the_renderer(renderer: Renderer) -> None:
    assert renderer.render_many(["echo $HOME", "true"], {}) == ["echo $HOME", "true"]
    assert renderer._proc is None


def test_a_loop_past_the_time_budget_fails_and_the_renderer_comes_back(
    renderer: Renderer,
) -> None:
    renderer.render_many(["{{ 1 }}"], {})
    first = renderer._proc
    assert first is not None
    started = time.monotonic()
    with pytest.raises(RenderError) as info:
        renderer.render_many([NESTED_LOOP], {})
    assert time.monotonic() - started < 5
    assert str(info.value) == (
        "rendering took longer than 1s (the template budget): simplify the template"
    )
    assert first.poll() is not None  # killed, not left spinning
    assert renderer.render_many(["{{ 6 * 7 }}"], {}) == ["42"]  # a fresh one
    assert renderer._proc is not first


def test_memory_past_the_budget_fails(renderer: Renderer) -> None:
    # 'a' * 10**6 is allowed; doubling it by concatenation 11 times asks for 2 GB.
    text = (
        "{% set ns = namespace(s='a' * 1000000) %}"
        "{% for i in range(11) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}"
    )
    renderer.timeout = 30  # only the memory limit may stop it
    with pytest.raises(RenderError) as info:
        renderer.render_many([text], {})
    assert str(info.value) == (
        f"rendering needed more than {MEMORY_LIMIT >> 30} GiB of memory (the template "
        "budget): simplify the template"
    )
    assert renderer.render_many(["{{ 1 + 1 }}"], {}) == ["2"]


def test_an_error_names_the_text_that_failed(renderer: Renderer) -> None:
    with pytest.raises(RenderError) as info:
        renderer.render_many(["{{ 1 }}", "ok", "{{ nope }}"], {}, ["command", "env.A", "env.B"])
    assert str(info.value) == "env.B: unknown template variable 'nope'"


def test_a_dead_renderer_is_replaced(renderer: Renderer) -> None:
    renderer.render_many(["{{ 1 }}"], {})
    assert renderer._proc is not None
    renderer._proc.kill()
    renderer._proc.wait()
    with pytest.raises(RenderError, match="the template renderer stopped"):
        renderer.render_many(["{{ 2 }}"], {})
    assert renderer.render_many(["{{ 3 }}"], {}) == ["3"]


def test_close_ends_the_renderer(renderer: Renderer) -> None:
    renderer.render_many(["{{ 1 }}"], {})
    proc = renderer._proc
    assert proc is not None
    renderer.close()
    assert proc.poll() is not None


def test_the_renderer_dies_with_its_engine() -> None:
    """An engine killed with -9 while a template spins leaves no renderer spinning."""
    engine = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from cubestudio.spec.renderer import Renderer\n"
            "r = Renderer(timeout=600)\n"
            "r.render_many(['{{ 1 }}'], {})\n"
            "print(r._proc.pid, flush=True)\n"
            f"r.render_many([{NESTED_LOOP!r}], {{}})\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert engine.stdout is not None
    child = int(engine.stdout.readline())
    assert start_time(child) is not None
    engine.kill()
    engine.wait()
    deadline = time.monotonic() + 10
    while start_time(child) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert start_time(child) is None, "the renderer outlived its engine"
