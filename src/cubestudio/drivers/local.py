"""The local driver: each attempt is a process group on this machine.

Per attempt, ``$CUBE_HOME/runs/<run>/<task>/<attempt>/`` holds ``started/`` (the launch claim),
``pid``, ``exit``, ``log``, ``outputs/`` and ``work/``. A tiny ``sh`` wrapper (not a Python
process: starting Python costs 12-56 ms, sh about 1 ms) writes them, so the engine can die at
any instant and a new one can tell, from the files alone, whether an attempt never began,
still runs (adopt it), ended (collect it) or was lost.

Completion is event-driven: a pidfd per attempt, children and adopted processes alike, in one
selector with the engine's wakeup fd.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cubestudio.engine.launcher import AttemptKey, LaunchRequest, Outcome, Recovery
from cubestudio.logs.index import append_index
from cubestudio.procinfo import is_alive

WRAPPER = (Path(__file__).with_name("wrapper.sh")).read_text()
MAX_OUTPUT_BYTES = 64 * 1024
SAMPLE_SECONDS = 1.0
_SPAWN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND


@dataclass(slots=True)
class _Watched:
    key: AttemptKey
    pid: int
    pidfd: int
    is_child: bool


def attempt_dir(runs_dir: Path, key: AttemptKey) -> Path:
    return runs_dir / key.run_id / key.task / str(key.number)


def read_line_file(path: Path) -> str | None:
    """A file the wrapper writes with one `echo`: None until its line is complete."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return None
    return text[:-1] if text.endswith("\n") else None


class LocalDriver:
    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        # CUBE_PYTHON: the interpreter running cube, so that templates' Python scripts find
        # the packages of cube's own environment (a virtualenv need not be activated).
        self.base_env = {"CUBE_PYTHON": sys.executable, **os.environ}
        self._selector = selectors.DefaultSelector()
        self._watched: dict[AttemptKey, _Watched] = {}
        self._ready: list[Outcome] = []
        self._log_sizes: dict[AttemptKey, int] = {}
        self._next_sample = 0.0

    # -- launching ------------------------------------------------------------------------
    def launch(self, request: LaunchRequest) -> None:
        folder = attempt_dir(self.runs_dir, request.key)
        self._make_dirs(folder)
        env = {
            **self.base_env,
            **request.env,
            "CUBE_OUTPUTS": str(folder / "outputs"),
            "CUBE_INPUTS": str(folder / "inputs"),
        }
        pid = os.posix_spawn(
            "/bin/sh",
            ["sh", "-c", WRAPPER, "cube-task", str(folder), request.command],
            env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, str(folder / "log"), _SPAWN_FLAGS, 0o644),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
            setsid=True,
        )
        self._watch(request.key, pid, is_child=True)

    @staticmethod
    def _make_dirs(folder: Path) -> None:
        """The attempt's folders, with as few mkdir calls as possible: on this hot path
        each costs about as much as the rest of the engine's bookkeeping. The run's folder
        exists after its first task, so the common case is four mkdirs."""
        for path in (folder.parent, folder, folder / "work", folder / "outputs"):
            try:
                os.mkdir(path)
            except FileExistsError:
                pass
            except FileNotFoundError:  # the run's first task: its folder too
                path.mkdir(parents=True, exist_ok=True)

    def _watch(self, key: AttemptKey, pid: int, *, is_child: bool) -> None:
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # already gone (an adopted process that just ended)
            self._ready.append(Outcome(key, self._exit_code(key)))
            return
        watched = _Watched(key, pid, pidfd, is_child)
        self._watched[key] = watched
        self._selector.register(pidfd, selectors.EVENT_READ, watched)

    # -- learning how attempts ended ----------------------------------------------------------
    def add_wakeup_fd(self, fd: int) -> None:
        self._selector.register(fd, selectors.EVENT_READ, None)

    def wait(self, timeout: float | None) -> None:
        if self._ready:
            return
        if self._watched:  # wake up to note how far the running logs have grown
            until_sample = max(0.0, self._next_sample - time.monotonic())
            timeout = until_sample if timeout is None else min(timeout, until_sample)
        for selected, _ in self._selector.select(timeout):
            if selected.data is None:  # the engine's wakeup fd: drain it
                try:
                    while os.read(selected.fd, 512):
                        pass
                except (BlockingIOError, InterruptedError):
                    pass

    def poll(self) -> list[Outcome]:
        if self._watched and time.monotonic() >= self._next_sample:
            self._sample_logs()
        for selected, _ in self._selector.select(0):
            if selected.data is not None:
                self._collect(selected.data)
        ready, self._ready = self._ready, []
        return ready

    def _sample_logs(self) -> None:
        """Append "time size" to each running attempt's log.index when its log grew: what
        `cube logs --since` uses to find where a time window starts in a large log."""
        self._next_sample = time.monotonic() + SAMPLE_SECONDS
        for key in self._watched:
            self._mark_log(key)

    def _mark_log(self, key: AttemptKey) -> None:
        folder = attempt_dir(self.runs_dir, key)
        try:
            size = os.stat(folder / "log").st_size
        except OSError:
            return
        if size and self._log_sizes.get(key) != size:
            self._log_sizes[key] = size
            append_index(folder, time.time(), size)

    def _collect(self, watched: _Watched) -> None:
        self._mark_log(watched.key)
        self._log_sizes.pop(watched.key, None)
        self._selector.unregister(watched.pidfd)
        os.close(watched.pidfd)
        del self._watched[watched.key]
        if watched.is_child:
            # Leftovers of the command (daemons it started, children that ignore SIGTERM)
            # share its process group; end them with it, as Kubernetes does with a pod. The
            # wrapper is not reaped yet, so its pid, the group id, cannot have been reused.
            try:
                os.killpg(watched.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            os.waitpid(watched.pid, 0)
        code = self._exit_code(watched.key)
        if code is None and watched.is_child and self._claimed_elsewhere(watched):
            # Our wrapper lost the launch claim to a wrapper an earlier engine started:
            # follow that one instead.
            self._adopt_or_settle(watched.key)
            return
        self._ready.append(Outcome(watched.key, code))

    def _claimed_elsewhere(self, watched: _Watched) -> bool:
        pid_line = read_line_file(attempt_dir(self.runs_dir, watched.key) / "pid")
        return pid_line is None or int(pid_line.split()[0]) != watched.pid

    def _exit_code(self, key: AttemptKey) -> int | None:
        line = read_line_file(attempt_dir(self.runs_dir, key) / "exit")
        return int(line) if line else None

    # -- recovery after an engine restart ---------------------------------------------------
    def recover(self, key: AttemptKey) -> Recovery:
        folder = attempt_dir(self.runs_dir, key)
        if not (folder / "started").is_dir():
            return Recovery.NOT_STARTED
        return self._adopt_or_settle(key)

    def _adopt_or_settle(self, key: AttemptKey) -> Recovery:
        folder = attempt_dir(self.runs_dir, key)
        pid_line = self._await_pid_file(folder)
        code = self._exit_code(key)
        if code is not None:
            self._ready.append(Outcome(key, code))
            return Recovery.FINISHED
        if pid_line is not None:
            pid_text, started = pid_line.split()
            if is_alive(int(pid_text), started):
                self._watch(key, int(pid_text), is_child=False)
                return Recovery.ADOPTED
        code = self._exit_code(key)  # it may have ended between the two looks
        self._ready.append(Outcome(key, code))
        return Recovery.FINISHED if code is not None else Recovery.LOST

    @staticmethod
    def _await_pid_file(folder: Path) -> str | None:
        """A wrapper writes its pid microseconds after claiming; give a live one that time."""
        deadline = time.monotonic() + 2.0
        while True:
            line = read_line_file(folder / "pid")
            if line is not None or time.monotonic() > deadline:
                return line
            time.sleep(0.01)

    # -- signals, outputs, notes ------------------------------------------------------------
    def signal(self, key: AttemptKey, signum: int) -> None:
        """Signal the attempt's whole process group (its wrapper's pid is the group id)."""
        watched = self._watched.get(key)
        pid: int | None = watched.pid if watched else None
        if pid is None:
            line = read_line_file(attempt_dir(self.runs_dir, key) / "pid")
            pid = int(line.split()[0]) if line else None
        if pid is None:
            return
        try:
            os.killpg(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def read_outputs(self, key: AttemptKey, names: list[str]) -> tuple[dict[str, str], str]:
        folder = attempt_dir(self.runs_dir, key) / "outputs"
        values: dict[str, str] = {}
        for name in names:
            path = folder / name
            if not path.is_file() or path.is_symlink():
                return values, (
                    f"declared output '{name}' was not written: write it to $CUBE_OUTPUTS/{name}"
                )
            if path.stat().st_size > MAX_OUTPUT_BYTES:
                return values, (
                    f"output '{name}' is {path.stat().st_size} bytes; a parameter output holds "
                    f"at most {MAX_OUTPUT_BYTES} bytes"
                )
            values[name] = path.read_text(errors="replace").rstrip("\n")
        return values, ""

    def note(self, key: AttemptKey, line: str) -> None:
        folder = attempt_dir(self.runs_dir, key)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "log", "a", encoding="utf-8") as log:
            log.write(f"[cube] {line}\n")

    def save_secrets(self, run_id: str, values: dict[str, str]) -> None:
        folder = self.runs_dir / run_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "secrets.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(values, out)

    def load_secrets(self, run_id: str) -> dict[str, str]:
        try:
            data = json.loads((self.runs_dir / run_id / "secrets.json").read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def output_path(self, key: AttemptKey, name: str) -> Path:
        return attempt_dir(self.runs_dir, key) / "outputs" / name

    def input_path(self, key: AttemptKey, name: str) -> Path:
        path = attempt_dir(self.runs_dir, key) / "inputs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)  # a launch that never began left it: place it again
        elif path.exists() or path.is_symlink():
            path.unlink()
        return path

    def close(self) -> None:
        for watched in list(self._watched.values()):
            self._selector.unregister(watched.pidfd)
            os.close(watched.pidfd)
        self._watched.clear()
        self._selector.close()
