"""Rendering under a time and a memory budget, in a renderer process of its own.

The sandbox in ``render.py`` refuses the cheap attacks at once, but no static check bounds a
template like ``{% for i in range(10**5) %}{% for j in range(10**5) %}…``: run in the engine,
it would block every other task of the run, its timeouts and ``cube stop``. So the engine
renders in a long-lived child process (``python -m cubestudio.spec.renderer``), started the
first time a text needs rendering, so pipelines without templates pay nothing. The child
caps its address space (RLIMIT_AS, 1 GiB); the parent waits at most ``timeout`` seconds for
each answer, then SIGKILLs it and starts a fresh one the next time.

Why a process and not a sandbox that counts work: a Python thread cannot be interrupted in
the middle of one long C call (``'a' * 10**9``, a huge ``**``), and memory is only bounded by
the kernel; a process can always be killed and its memory is the kernel's to cap.

Protocol: length-prefixed JSON over the child's stdin/stdout. A request is
``{"texts": [...], "context": {...}}`` (the context is plain JSON: ``datetime`` and ``uuid``
are added by ``render`` in the child); the answer is ``{"ok": [...]}`` or
``{"error": "..."}``. The child writes one ready byte once its imports are done, so a slow
start never counts against a template's budget.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

from cubestudio.errors import RenderError
from cubestudio.spec.render import is_template, render

MEMORY_LIMIT = 1 << 30  # bytes of address space for the renderer process
START_TIMEOUT = 60.0  # seconds for the child's imports (a busy machine can be slow)
_HEADER = struct.Struct(">I")
_READY = b"R"


def over_time(timeout: float) -> str:
    return f"rendering took longer than {timeout:g}s (the template budget): simplify the template"


OVER_MEMORY = (
    f"rendering needed more than {MEMORY_LIMIT >> 30} GiB of memory (the template budget): "
    "simplify the template"
)


class Renderer:
    """The parent's side: one renderer process, started lazily, replaced after a kill."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._selector: selectors.BaseSelector | None = None

    def render_many(
        self,
        texts: Sequence[str],
        context: Mapping[str, Any],
        names: Sequence[str] | None = None,
    ) -> list[str]:
        """The texts rendered with ``context``; raises RenderError: the first failing text's
        error (prefixed with its name from ``names``), or the budget's."""
        wanted = [i for i, text in enumerate(texts) if is_template(text)]
        out = list(texts)
        if not wanted:
            return out
        request = json.dumps({"texts": [texts[i] for i in wanted], "context": context})
        answer = self._ask(request.encode())
        if "error" in answer:
            failed = answer.get("index")
            name = names[wanted[failed]] if names is not None and failed is not None else None
            raise RenderError(f"{name}: {answer['error']}" if name else str(answer["error"]))
        for i, text in zip(wanted, answer["ok"], strict=True):
            out[i] = text
        return out

    def close(self) -> None:
        """Stop the renderer process (it also ends by itself when this process does)."""
        proc, self._proc = self._proc, None
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        if proc is not None:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.close()  # end of input: the child exits
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()

    # -- one exchange ----------------------------------------------------------------------
    def _ask(self, body: bytes) -> dict[str, Any]:
        proc = self._process()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(_HEADER.pack(len(body)) + body)
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return {"error": self._died()}
        deadline = time.monotonic() + self.timeout
        header = self._read(proc.stdout, _HEADER.size, deadline)
        if header is None:
            return {"error": self._gave_up(deadline)}
        reply = self._read(proc.stdout, _HEADER.unpack(header)[0], deadline)
        if reply is None:
            return {"error": self._gave_up(deadline)}
        answer: dict[str, Any] = json.loads(reply)
        return answer

    def _read(self, stream: IO[bytes], size: int, deadline: float) -> bytes | None:
        """``size`` bytes, or None when the deadline passed or the child's output ended."""
        assert self._selector is not None
        fd = stream.fileno()
        data = bytearray()
        while len(data) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not self._selector.select(left):
                return None
            chunk = os.read(fd, size - len(data))
            if not chunk:
                return None
            data += chunk
        return bytes(data)

    def _gave_up(self, deadline: float) -> str:
        if time.monotonic() < deadline:  # the output ended early: the child died
            return self._died()
        self._kill()
        return over_time(self.timeout)

    def _died(self) -> str:
        code: int | None = None
        if self._proc is not None:
            try:
                code = self._proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        self._kill()
        return (
            f"the template renderer stopped (exit status {code}), perhaps past its "
            f"{MEMORY_LIMIT >> 30} GiB memory budget: simplify the template"
        )

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        if proc is not None:
            proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    try:
                        stream.close()
                    except OSError:  # a broken pipe's buffered bytes
                        pass

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is not None:
            return self._proc
        try:
            proc = subprocess.Popen(
                # -P: the current folder (a user's) never shadows a module of the renderer.
                [sys.executable, "-P", "-m", "cubestudio.spec.renderer", str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                # Its own session: Ctrl-C in the terminal reaches the engine, not the renderer,
                # which ends when the engine's end closes its input.
                start_new_session=True,
            )
        except OSError as err:
            raise RenderError(f"cannot start the template renderer: {err}") from None
        assert proc.stdout is not None
        self._proc = proc
        self._selector = selectors.DefaultSelector()
        self._selector.register(proc.stdout.fileno(), selectors.EVENT_READ)
        if self._read(proc.stdout, 1, time.monotonic() + START_TIMEOUT) != _READY:
            self._kill()
            raise RenderError("the template renderer did not start: check the installation")
        return proc


# -- the child's side ------------------------------------------------------------------------
def serve(source: IO[bytes], sink: IO[bytes]) -> None:
    """Answer requests until the input ends."""
    sink.write(_READY)
    sink.flush()
    while header := source.read(_HEADER.size):
        if len(header) < _HEADER.size:
            return
        request = json.loads(source.read(_HEADER.unpack(header)[0]))
        answer = _answer(request["texts"], request["context"])
        body = json.dumps(answer).encode()
        sink.write(_HEADER.pack(len(body)) + body)
        sink.flush()


def _answer(texts: list[str], context: dict[str, Any]) -> dict[str, Any]:
    done: list[str] = []
    try:
        for text in texts:
            done.append(render(text, context))
    except RenderError as err:
        return {"error": str(err), "index": len(done)}
    except MemoryError:
        done.clear()  # give the memory back before answering
        return {"error": OVER_MEMORY}
    return {"ok": done}


def _die_with(parent: int) -> None:
    """SIGKILL this process when its parent dies: an engine killed with -9 while a template
    spins would otherwise leave the renderer spinning, an orphan, until the loop ends."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        os._exit(0)


def main() -> None:
    import resource

    if len(sys.argv) > 1 and sys.platform == "linux":
        _die_with(int(sys.argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
