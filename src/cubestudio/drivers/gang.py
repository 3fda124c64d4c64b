"""The gang supervisor: runs one distributed attempt's members on this machine.

The local driver runs it through the wrapper as the attempt's command, with ``exec`` (or the
wrapper's subshell dies of the engine's SIGTERM and the wrapper SIGKILLs the supervisor)::

    exec "$CUBE_PYTHON" -m cubestudio.drivers.gang <attempt>/gang.json

``gang.json``: ``{"plan": LaunchPlan.to_data(), "kill_grace": seconds}``. Each member with a
command runs as ``sh -c COMMAND`` in a session of its own, with the member's env over the
supervisor's. ``<attempt>/workers/<name>/`` holds its raw ``log``, ``pid`` (its group) and
``exit`` (128+N after signal N); its lines reach the attempt's log as ``[<name>] line``.
Success: every member that ``finishes`` exited 0; the services left are stopped; exit 0.
The first failure (a finishing member exiting non-zero, a service ending at all) goes to
``<attempt>/failure``, the others are stopped (SIGTERM to each group, SIGKILL after the grace)
and the supervisor exits with that member's code (1 for a 0). SIGTERM, SIGINT or SIGHUP to it
stops everyone the same way; it then exits 143. However it ends, even killed, no member's
group outlives it.
"""

from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

from cubestudio.drivers.gang_output import STDOUT, MemberOutput, say, write_line
from cubestudio.drivers.gang_usage import MemberUsage
from cubestudio.engine.distributed.model import HOSTFILE_ENV, LaunchPlan, WorkerSpec
from cubestudio.errors import CubeError

EXIT_STOPPED = 143  # the supervisor was told to stop: as a shell reports a SIGTERM
EXIT_USAGE = 2  # gang.json is missing or not valid
FOLDER_MODE = 0o700
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
DRAIN_SECONDS = 1.0  # how long output held by a process that left its member's group waits
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded before any fork: the child only calls it
# The guard: a shell in a session of its own that reads the members' group ids, one a line.
# Should the supervisor die without saying "done" (even by SIGKILL, which no code of its own
# survives), its pipe ends and the guard kills every group. PR_SET_PDEATHSIG alone reaches
# only a member's `sh`, not the processes that sh starts.
_GUARD = (
    'while read -r g; do [ "$g" = done ] && exit 0; set -- "$@" "-$g"; done; '
    'for g; do kill -s KILL -- "$g"; done'
)


@dataclass(slots=True)
class Member:
    spec: WorkerSpec
    folder: str
    proc: subprocess.Popen[bytes]
    pidfd: int
    output: MemberOutput
    code: int | None = None  # its sh's exit status, once it ended
    reaped: bool = False  # its group is over: nothing of it is awaited any more


def _die_with_parent(parent: int) -> Callable[[], None]:
    def preexec() -> None:  # in the child, between fork and exec
        _LIBC.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
        if os.getppid() != parent:  # the supervisor died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def _exit_status(pidfd: int) -> int:
    """The ended process's status as a shell reports it, leaving it a zombie: until reaped,
    its pid keeps naming its group, so killpg cannot reach anyone else."""
    info = os.waitid(os.P_PIDFD, pidfd, os.WEXITED | os.WNOWAIT)
    assert info is not None  # only WNOHANG gives None
    return int(info.si_status) + (0 if info.si_code == os.CLD_EXITED else 128)


def _signal_group(pid: int, signum: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pid, signum)


class Gang:
    def __init__(self, plan: LaunchPlan, attempt: str, kill_grace: float) -> None:
        self.plan = plan
        self.attempt = attempt
        self.kill_grace = kill_grace
        self.members: list[Member] = []
        self.selector = selectors.DefaultSelector()
        self.outcome: int | None = None  # the supervisor's exit code, once decided
        self.stopping = False  # SIGTERM sent, the grace runs
        self.guard: subprocess.Popen[bytes] | None = None

    # -- start --------------------------------------------------------------------------------
    def start(self) -> None:
        self.guard = subprocess.Popen(
            ["sh", "-c", _GUARD],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            bufsize=0,
        )
        extra_env = {}
        if self.plan.mpi is not None:
            hostfile = os.path.join(self.attempt, "hostfile")
            write_line(hostfile, self.plan.mpi.hostfile.rstrip("\n"))
            extra_env[HOSTFILE_ENV] = hostfile
        for spec in self.plan.workers:
            folder = os.path.join(self.attempt, "workers", spec.name)
            os.makedirs(folder, mode=FOLDER_MODE, exist_ok=True)
            if spec.command is not None:
                self._start_member(spec, folder, {**spec.env, **extra_env})

    def _start_member(self, spec: WorkerSpec, folder: str, member_env: dict[str, str]) -> None:
        assert spec.command is not None
        env = {**os.environ, **member_env}
        bin_dir = os.path.dirname(sys.executable)  # torchrun, mpirun, ray of cube's venv
        env["PATH"] = os.pathsep.join(p for p in (bin_dir, env.get("PATH")) if p)
        read_end, write_end = os.pipe()
        output = MemberOutput(spec.name, read_end, os.path.join(folder, "log"), STDOUT)
        try:
            proc = subprocess.Popen(
                ["sh", "-c", spec.command],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=write_end,
                stderr=write_end,
                start_new_session=True,
                preexec_fn=_die_with_parent(os.getpid()),
            )
        except BaseException:
            output.close()
            raise
        finally:
            os.close(write_end)
        self._tell_guard(str(proc.pid))
        try:
            member = Member(spec, folder, proc, os.pidfd_open(proc.pid), output)
        except BaseException:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        self.members.append(member)
        write_line(os.path.join(folder, "pid"), str(proc.pid))
        self.selector.register(read_end, selectors.EVENT_READ, lambda: self._read(member))
        self.selector.register(member.pidfd, selectors.EVENT_READ, lambda: self._ended(member))

    def _tell_guard(self, line: str) -> None:
        if self.guard is not None and self.guard.stdin is not None:
            try:
                self.guard.stdin.write(f"{line}\n".encode())
            except OSError:
                pass  # the guard is gone: PR_SET_PDEATHSIG still covers each member's sh

    def watch_signals(self, wakeup_fd: int) -> None:
        self.selector.register(wakeup_fd, selectors.EVENT_READ, lambda: self._signalled(wakeup_fd))

    # -- events -------------------------------------------------------------------------------
    def _step(self, timeout: float | None) -> None:
        for key, _ in self.selector.select(timeout):
            if self.selector.get_map().get(key.fd) is key:  # an earlier event may have closed it
                key.data()

    def _read(self, member: Member, *, until_empty: bool = False) -> None:
        if member.output.closed or not member.output.pump(until_empty=until_empty):
            return
        self._close_output(member)
        if self.stopping and member.code is not None:
            self._reap(member)  # its sh ended earlier; now the rest of its group has

    def _close_output(self, member: Member) -> None:
        if not member.output.closed:
            self.selector.unregister(member.output.pipe_fd)
            member.output.close()

    def _ended(self, member: Member) -> None:
        member.code = _exit_status(member.pidfd)
        self.selector.unregister(member.pidfd)
        os.close(member.pidfd)
        write_line(os.path.join(member.folder, "exit"), str(member.code))
        self._read(member, until_empty=True)  # what it printed before it ended
        if self.outcome is None:
            self._judge(member)
        # While stopping, its sh may have died of the SIGTERM while the command it runs still
        # cleans up: the group keeps the grace, until its output ends.
        if not self.stopping or member.output.closed:
            self._reap(member)

    def _reap(self, member: Member) -> None:
        """End what is left of its group (as the wrapper does for an attempt), then reap."""
        if not member.reaped:
            _signal_group(member.proc.pid, signal.SIGKILL)
            member.proc.wait()
            member.reaped = True

    def _judge(self, member: Member) -> None:
        name, code = member.spec.name, member.code
        if member.spec.service:
            self._fail(member, "ended before the task was done", f"{name} ended early")
        elif code != 0:
            self._fail(member, f"exit code {code}", f"{name} exited with code {code}")
        elif all(m.code == 0 for m in self.members if m.spec.finishes):
            self.outcome = 0
            if services := [m.spec.name for m in self.members if m.code is None]:
                say(f"every worker finished; stopping {', '.join(services)}")

    def _fail(self, member: Member, why: str, record: str) -> None:
        self.outcome = member.code or 1
        say(f"{member.spec.name} failed: {why}; stopping the other workers")
        write_line(os.path.join(self.attempt, "failure"), record)

    def _signalled(self, wakeup_fd: int) -> None:
        try:
            received = os.read(wakeup_fd, 64)
        except BlockingIOError:
            return
        if self.outcome is None and received:
            self.outcome = EXIT_STOPPED
            say(f"got {signal.Signals(received[0]).name}; stopping the workers")

    # -- the whole run ------------------------------------------------------------------------
    def run(self) -> int:
        """Wait for the outcome, stop whoever still runs, and return the exit code."""
        if not any(m.spec.finishes for m in self.members):
            self.outcome = 0  # nothing to wait for (a plan of services alone)
        usage = MemberUsage.from_env()
        try:
            while self.outcome is None:
                self._step(usage.seconds_left() if usage else None)
                if usage is not None and usage.seconds_left() == 0:
                    running = [m for m in self.members if m.code is None]
                    usage.sample({m.spec.name: (m.proc.pid, m.folder) for m in running})
        finally:
            if usage is not None:
                usage.close()
        self._stop_the_rest()
        self._drain()
        return self.outcome

    def _left(self) -> list[Member]:
        return [m for m in self.members if not m.reaped]

    def _stop_the_rest(self) -> None:
        """SIGTERM to every group left; SIGKILL to what is left of them after the grace."""
        self.stopping = True
        for member in self._left():
            _signal_group(member.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.kill_grace
        while self._left() and (left := deadline - time.monotonic()) > 0:
            self._step(left)
        self.stopping = False
        for member in self._left():
            _signal_group(member.proc.pid, signal.SIGKILL)
            if member.code is not None:
                self._reap(member)
        while self._left():
            self._step(None)

    def _drain(self) -> None:
        """Every member has ended: pass on the output still in flight, for a short while only
        (a process that escaped its member's group may hold a pipe open)."""
        deadline = time.monotonic() + DRAIN_SECONDS
        while not all(m.output.closed for m in self.members):
            if (left := deadline - time.monotonic()) <= 0:
                break
            self._step(left)
        for member in self.members:
            self._close_output(member)

    def close(self) -> None:
        """The last step, whatever happened: no member's group outlives the supervisor."""
        for member in self._left():
            _signal_group(member.proc.pid, signal.SIGKILL)
            member.proc.wait()
            member.reaped = True
        if self.guard is not None:
            self._tell_guard("done")
            self.guard.communicate()


def read_gang_file(path: str) -> tuple[LaunchPlan, float]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as err:
        raise CubeError(f"cannot read the gang file {path}: {err}") from None
    if not isinstance(data, dict):
        raise CubeError(f"{path}: give a JSON object with plan and kill_grace")
    grace = data.get("kill_grace")
    if not isinstance(grace, int | float) or isinstance(grace, bool) or grace < 0:
        raise CubeError(f"{path}: kill_grace must be a number of seconds, 0 or more")
    return LaunchPlan.from_data(data.get("plan")), float(grace)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m cubestudio.drivers.gang ATTEMPT/gang.json", file=sys.stderr)
        return EXIT_USAGE
    try:
        plan, grace = read_gang_file(args[0])
    except CubeError as err:
        print(f"[cube] {err}", file=sys.stderr)
        return EXIT_USAGE
    gang = Gang(plan, os.path.dirname(os.path.abspath(args[0])), grace)
    read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    for signum in STOP_SIGNALS:  # each arrives as a byte on the wakeup pipe
        signal.signal(signum, lambda *_: None)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    gang.watch_signals(read_end)
    try:
        gang.start()
        return gang.run()
    finally:
        gang.close()


if __name__ == "__main__":
    sys.exit(main())
