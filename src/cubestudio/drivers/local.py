"""The local driver: each attempt is a process group on this machine.

Per attempt, ``$CUBE_HOME/runs/<run>/<task>/<attempt>/`` (0700: logs may hold secrets) holds
``started`` (the launch claim, holding "PID STARTTIME"), ``exit``, ``log`` (0600), ``outputs/``
and ``work/``.
A tiny ``sh`` wrapper (not a Python process: starting Python costs 12-56 ms, sh about 1 ms)
writes them, so the engine can die at any instant and a new one can tell, from the files
alone, whether an attempt never began, still runs (adopt it), ended (collect it) or was lost.

Launching is the engine's hot path: per attempt it makes the folders and starts one ``sh``,
with no Path objects and no stat; the wrapper claims, records and cleans up with builtins.

Completion is event-driven: a pidfd per attempt, children and adopted processes alike, in one
selector with the engine's wakeup fd.
"""

from __future__ import annotations

import json
import os
import selectors
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cubestudio.engine.launcher import AttemptKey, LaunchRequest, Outcome, Recovery
from cubestudio.logs.index import append_index
from cubestudio.procinfo import is_alive

if TYPE_CHECKING:
    from cubestudio.monitor.recorder import MetricsRecorder

# The wrapper's code without its comments: sh parses it again for every attempt.
WRAPPER = "\n".join(
    line
    for line in Path(__file__).with_name("wrapper.sh").read_text().splitlines()
    if not line.startswith("#")
)
MAX_OUTPUT_BYTES = 64 * 1024
SAMPLE_SECONDS = 1.0
_SPAWN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND
# Python ignores these two (writes fail with EPIPE/EFBIG instead); a task must get them as
# any shell command does, or `yes | head -1` logs "Broken pipe" (as subprocess resets them).
_DEFAULT_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)
FOLDER_MODE = 0o700  # attempt folders and logs are private: a log may hold a secret
FILE_MODE = 0o600


@dataclass(slots=True)
class _Watched:
    key: AttemptKey
    pid: int
    pidfd: int
    is_child: bool


class _Wakeup:
    """A wakeup fd in the selector, and how to read it."""

    def __init__(self, on_ready: Callable[[], None] | None) -> None:
        self.on_ready = on_ready

    def read(self, fd: int) -> None:
        if self.on_ready is not None:
            self.on_ready()
            return
        try:
            while os.read(fd, 512):
                pass
        except (BlockingIOError, InterruptedError):
            pass


def attempt_dir(runs_dir: Path, key: AttemptKey) -> Path:
    return runs_dir / key.run_id / key.task / str(key.number)


def read_line_file(path: str | Path) -> str | None:
    """A file the wrapper writes with one `echo`: None until its line is complete."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError):
        return None
    return text[:-1] if text.endswith("\n") else None


def _mkdir_private(path: str) -> None:
    """mkdir 0700 when missing, with any missing parents (0700 too)."""
    try:
        os.mkdir(path, FOLDER_MODE)
    except FileExistsError:
        pass
    except FileNotFoundError:  # a parent is missing: the run's first task
        parent = os.path.dirname(path)
        if parent in ("", path):
            raise
        _mkdir_private(parent)
        _mkdir_private(path)


def _identity_file(folder: str) -> str:
    """The file that says "PID STARTTIME" of the wrapper that claimed the attempt: its
    ``started`` file, or ``pid`` beside a ``started`` folder, as earlier wrappers made them:
    an attempt launched before an upgrade is still adopted after it."""
    started = folder + "/started"
    return folder + "/pid" if os.path.isdir(started) else started


def save_run_secrets(runs_dir: Path, run_id: str, values: dict[str, str]) -> None:
    """Where the process that creates a run keeps its secrets' values for the engine that
    drives it (0600 in the run's 0700 folder): not in the database."""
    folder = f"{runs_dir}/{run_id}"
    _mkdir_private(folder)
    fd = os.open(folder + "/secrets.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as out:
        json.dump(values, out)


def _gang_command(folder: str, gang: dict[str, object]) -> str:
    """A distributed task runs the gang supervisor (drivers/gang.py) as its command: it
    starts every member of the plan, prefixes their log lines and applies the failure
    policy. The wrapper claims the attempt as for any task, so after an engine restart the
    whole gang is adopted through it, and none of its members starts twice."""
    fd = os.open(folder + "/gang.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as out:
        json.dump(gang, out)
    return f'exec "$CUBE_PYTHON" -m cubestudio.drivers.gang {shlex.quote(folder + "/gang.json")}'


class LocalDriver:
    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        self._runs = str(runs_dir)
        # CUBE_PYTHON: the interpreter running cube, so that templates' Python scripts find
        # the packages of cube's own environment (a virtualenv need not be activated).
        self.base_env = {"CUBE_PYTHON": sys.executable, **os.environ}
        self._selector = selectors.DefaultSelector()
        self._watched: dict[AttemptKey, _Watched] = {}
        self._children: set[int] = set()  # wrappers we started and forgot, not reaped yet
        self._ready: list[Outcome] = []
        self._log_sizes: dict[AttemptKey, int] = {}
        self._next_sample = 0.0
        # Resource monitoring (cubestudio.monitor), sampled from _sample_logs; set by
        # whoever opens the driver to drive runs (cli/setup.py), None: off.
        self.monitor: MetricsRecorder | None = None

    # -- launching ------------------------------------------------------------------------
    def launch(self, request: LaunchRequest) -> None:
        key = request.key
        folder = self._make_folder(key, request.workdir)
        env = {
            **self.base_env,
            **request.env,
            "CUBE_OUTPUTS": folder + "/outputs",
            "CUBE_INPUTS": folder + "/inputs",
            "CUBE_WORKDIR": request.workdir or "",  # the task's workdir:, else its own folder
            "CUBE_STATE_DIR": folder[: folder.rindex("/")] + "/state",
        }
        command = request.command
        if request.gang is not None:
            command = _gang_command(folder, request.gang)
        pid = os.posix_spawn(
            "/bin/sh",
            ["sh", "-c", WRAPPER, "cube-task", folder, command],
            env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, folder + "/log", _SPAWN_FLAGS, FILE_MODE),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
            setsid=True,
            setsigdef=_DEFAULT_SIGNALS,
        )
        self._watch(key, pid, is_child=True)

    def _folder(self, key: AttemptKey) -> str:
        """attempt_dir as a string: no Path objects on the launch path."""
        return f"{self._runs}/{key.run_id}/{key.task}/{key.number}"

    def _make_folder(self, key: AttemptKey, workdir: str | None) -> str:
        """The attempt's folders, each made with one mkdir and nothing else (no stat, no
        Path): on this hot path a mkdir costs as much CPU as the engine's own bookkeeping
        for the task. The task's folder is new on its first attempt only. The wrapper could
        make work/ and outputs/ itself, but not without starting a mkdir process, which
        costs ten times more."""
        folder = self._folder(key)
        if key.number == 1:
            _mkdir_private(folder[: folder.rindex("/")])
            # $CUBE_STATE_DIR: kept across the task's attempts (checkpoints to resume from)
            _mkdir_private(folder[: folder.rindex("/")] + "/state")
        _mkdir_private(folder)
        if not workdir:  # a task with a workdir: runs there
            _mkdir_private(folder + "/work")
        _mkdir_private(folder + "/outputs")
        return folder

    def _watch(self, key: AttemptKey, pid: int, *, is_child: bool) -> None:
        if pid in self._children:  # our own child, forgotten then adopted again
            self._children.discard(pid)
            is_child = True
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # already gone (an adopted process that just ended)
            self._ready.append(Outcome(key, self._exit_code(key)))
            return
        watched = _Watched(key, pid, pidfd, is_child)
        self._watched[key] = watched
        self._selector.register(pidfd, selectors.EVENT_READ, watched)

    # -- learning how attempts ended ----------------------------------------------------------
    def add_wakeup_fd(self, fd: int, on_ready: Callable[[], None] | None = None) -> None:
        """Wake ``wait`` when ``fd`` is readable; ``on_ready`` reads it (by default it is
        drained as a pipe or datagram socket whose content does not matter)."""
        self._selector.register(fd, selectors.EVENT_READ, _Wakeup(on_ready))

    def wait(self, timeout: float | None) -> None:
        if self._ready:
            return
        if self._watched:  # wake up to note how far the running logs have grown
            until_sample = max(0.0, self._next_sample - time.monotonic())
            timeout = until_sample if timeout is None else min(timeout, until_sample)
        for selected, _ in self._selector.select(timeout):
            if isinstance(selected.data, _Wakeup):  # a wakeup fd
                selected.data.read(selected.fd)

    def poll(self) -> list[Outcome]:
        if self._watched and time.monotonic() >= self._next_sample:
            self._sample_logs()
        for selected, _ in self._selector.select(0):
            if isinstance(selected.data, _Watched):
                self._collect(selected.data)
        ready, self._ready = self._ready, []
        return ready

    def _sample_logs(self) -> None:
        """Append "time size" to each running attempt's log.index when its log grew: what
        `cube logs --since` uses to find where a time window starts in a large log."""
        self._next_sample = time.monotonic() + SAMPLE_SECONDS
        for key in self._watched:
            self._mark_log(key)
        if self.monitor is not None:
            self.monitor.sample({key: w.pid for key, w in self._watched.items()})

    def _mark_log(self, key: AttemptKey) -> None:
        folder = self._folder(key)
        try:
            size = os.stat(folder + "/log").st_size
        except OSError:
            return
        if size and self._log_sizes.get(key) != size:
            self._log_sizes[key] = size
            append_index(Path(folder), time.time(), size)

    def _collect(self, watched: _Watched) -> None:
        self._mark_log(watched.key)
        self._log_sizes.pop(watched.key, None)
        if self.monitor is not None:
            self.monitor.finish(watched.key)
        self._selector.unregister(watched.pidfd)
        os.close(watched.pidfd)
        del self._watched[watched.key]
        if watched.is_child:
            # The wrapper ends its process group itself (wrapper.sh, step 4). A wrapper that
            # died before it could (killed alone, by the OOM killer say) leaves the rest of
            # its group to us: the wrapper is not reaped yet, so its pid, the group id,
            # cannot have been reused. An adopted wrapper is not ours to reap, so its group
            # id may name someone else by now: only the wrapper's own kill is safe there.
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
        pid_line = read_line_file(_identity_file(self._folder(watched.key)))
        return pid_line is None or int(pid_line.split()[0]) != watched.pid

    def _exit_code(self, key: AttemptKey) -> int | None:
        line = read_line_file(self._folder(key) + "/exit")
        return int(line) if line else None

    # -- recovery after an engine restart ---------------------------------------------------
    def recover(self, key: AttemptKey) -> Recovery:
        if not os.path.lexists(self._folder(key) + "/started"):
            return Recovery.NOT_STARTED
        return self._adopt_or_settle(key)

    def _adopt_or_settle(self, key: AttemptKey) -> Recovery:
        pid_line = self._await_pid_file(_identity_file(self._folder(key)))
        code = self._exit_code(key)
        if code is not None:
            if pid_line is not None and int(pid_line.split()[0]) in self._children:
                self._reap(int(pid_line.split()[0]))  # our child, forgotten, ended meanwhile
            self._ready.append(Outcome(key, code))
            return Recovery.FINISHED
        if pid_line is not None:
            pid_text, started = pid_line.split()
            if is_alive(int(pid_text), started):
                self._watch(key, int(pid_text), is_child=False)
                return Recovery.ADOPTED
        code = self._exit_code(key)  # it may have ended between the two looks
        if pid_line is not None and int(pid_line.split()[0]) in self._children:
            self._reap(int(pid_line.split()[0]))  # our child, forgotten, ended meanwhile
        self._ready.append(Outcome(key, code))
        return Recovery.FINISHED if code is not None else Recovery.LOST

    def _reap(self, pid: int) -> None:
        self._children.discard(pid)
        try:
            os.killpg(pid, signal.SIGKILL)  # not reaped yet: the group id is still its own
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass

    @staticmethod
    def _await_pid_file(path: str) -> str | None:
        """A wrapper writes its pid the instant it claims; give a live one that time."""
        deadline = time.monotonic() + 2.0
        while True:
            line = read_line_file(path)
            if line is not None or time.monotonic() > deadline:
                return line
            time.sleep(0.01)

    # -- signals, outputs, notes ------------------------------------------------------------
    def signal(self, key: AttemptKey, signum: int) -> None:
        """Signal the attempt's whole process group (its wrapper's pid is the group id)."""
        watched = self._watched.get(key)
        pid: int | None = watched.pid if watched else None
        if pid is None:
            line = read_line_file(_identity_file(self._folder(key)))
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

    def failure(self, key: AttemptKey) -> str | None:
        return read_line_file(self._folder(key) + "/failure")  # the gang supervisor's

    def note(self, key: AttemptKey, line: str) -> None:
        folder = self._folder(key)
        _mkdir_private(folder)
        fd = os.open(folder + "/log", _SPAWN_FLAGS, FILE_MODE)
        with open(fd, "a", encoding="utf-8") as log:
            log.write(f"[cube] {line}\n")

    def save_secrets(self, run_id: str, values: dict[str, str]) -> None:
        save_run_secrets(self.runs_dir, run_id, values)

    def load_secrets(self, run_id: str) -> dict[str, str]:
        try:
            data = json.loads((self.runs_dir / run_id / "secrets.json").read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def output_path(self, key: AttemptKey, name: str) -> Path:
        return attempt_dir(self.runs_dir, key) / "outputs" / name

    def input_path(self, key: AttemptKey, name: str) -> Path:
        folder = self._folder(key) + "/inputs"
        _mkdir_private(folder)
        path = Path(folder, name)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)  # a launch that never began left it: place it again
        elif path.exists() or path.is_symlink():
            path.unlink()
        return path

    def forget(self, run_id: str) -> None:
        """Stop watching the run's attempts without touching them: the engine lost or gave
        up the run, and whoever takes it adopts them. Children stay known, so that a later
        adoption in this process still reaps them."""
        for key in [k for k in self._watched if k.run_id == run_id]:
            watched = self._watched.pop(key)
            self._selector.unregister(watched.pidfd)
            os.close(watched.pidfd)
            self._log_sizes.pop(key, None)
            if watched.is_child:
                self._children.add(watched.pid)
        self._ready = [o for o in self._ready if o.key.run_id != run_id]
        if self.monitor is not None:
            self.monitor.forget(run_id)

    def close(self) -> None:
        for watched in list(self._watched.values()):
            self._selector.unregister(watched.pidfd)
            os.close(watched.pidfd)
        self._watched.clear()
        self._selector.close()
        if self.monitor is not None:
            self.monitor.close()
