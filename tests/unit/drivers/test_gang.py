"""The gang supervisor with real processes: it runs as the local driver runs it (a subprocess
whose stdout is the attempt's log, cwd the work folder), over plans from ``plan_for`` whose
members run gang_scripts/member.py; then the files it wrote are checked."""

from __future__ import annotations

import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cubestudio.drivers.gang_usage import read_series
from cubestudio.engine.distributed import LaunchPlan, LocalPorts, SequentialPorts, plan_for
from cubestudio.spec.model import Resources
from tests.unit.drivers.waits import gone

MEMBER = Path(__file__).parent / "gang_scripts" / "member.py"
SUPERVISOR_ENV = {"LR": "0.1"}  # the task's env, as the wrapper hands it on


def member_command(*behaviours: str) -> str:
    return shlex.join([sys.executable, str(MEMBER), *behaviours])


def make_plan(
    kind: str, *behaviours: str, workers: int = 2, ps: int = 0, slots: int = 1
) -> LaunchPlan:
    return plan_for(
        kind,
        task_name="train",
        command=member_command(*behaviours),
        workers=workers,
        resources=Resources(cpu=1),
        ports=SequentialPorts(),
        ps=ps,
        slots=slots,
    )


def with_command(plan: LaunchPlan, command: str, *names: str) -> LaunchPlan:
    """The plan with ``command`` for the members ``names`` (all when none is named)."""
    workers = tuple(
        w.model_copy(update={"command": command}) if w.name in names or not names else w
        for w in plan.workers
    )
    return plan.model_copy(update={"workers": workers})


class Attempt:
    """One attempt folder and the supervisor running in it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, plan: LaunchPlan, kill_grace: float = 30.0) -> subprocess.Popen[bytes]:
        self.folder.mkdir(mode=0o700)
        gang_file = self.folder / "gang.json"
        gang_file.write_text(json.dumps({"plan": plan.to_data(), "kill_grace": kill_grace}))
        with open(self.folder / "log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cubestudio.drivers.gang", str(gang_file)],
                cwd=self.folder.parent,
                env={**os.environ, **SUPERVISOR_ENV},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self.proc

    def run(self, plan: LaunchPlan, kill_grace: float = 30.0) -> int:
        return self.start(plan, kill_grace).wait(timeout=20)

    def log(self) -> bytes:
        return (self.folder / "log").read_bytes()

    def member(self, name: str) -> Path:
        return self.folder / "workers" / name

    def member_log(self, name: str) -> bytes:
        return (self.member(name) / "log").read_bytes()

    def printed_env(self, name: str) -> dict[str, str]:
        env: dict[str, str] = json.loads(self.member_log(name).splitlines()[-1])
        return env

    def exit_code(self, name: str) -> str:
        return (self.member(name) / "exit").read_text()

    def pids(self) -> list[int]:
        return [int(p.read_text()) for p in self.folder.glob("workers/*/pid")]

    def wait_ready(self, *names: str) -> None:
        """Until each member has printed "ready" (it set itself up: ignored SIGTERM...)."""
        deadline = time.monotonic() + 10
        for name in names:
            log = self.member(name) / "log"
            while not (log.exists() and b"ready\n" in log.read_bytes()):
                assert time.monotonic() < deadline, f"{name} did not get ready"
                time.sleep(0.01)


@pytest.fixture
def attempt(tmp_path: Path) -> Iterator[Attempt]:
    made = Attempt(tmp_path / "attempt")
    yield made
    if made.proc is not None and made.proc.poll() is None:  # the test failed midway
        os.killpg(made.proc.pid, signal.SIGKILL)
        made.proc.wait()
    for pid in made.pids():  # and whatever a failing supervisor left behind
        if live_in_group(pid):
            os.killpg(pid, signal.SIGKILL)


def live_in_group(pgid: int) -> list[int]:
    """The processes of group ``pgid`` that are not zombies (this machine's init may be slow
    to reap the orphans a stopped member leaves)."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat_file.read_text()
        except OSError:
            continue  # ended meanwhile
        state, _ppid, group = text[text.rindex(")") + 2 :].split()[:3]
        if int(group) == pgid and state not in ("Z", "X"):
            found.append(int(stat_file.parent.name))
    return found


def assert_all_gone(attempt: Attempt) -> None:
    """Nothing of any member is alive: its sh, nor anything left in its process group."""
    pids = attempt.pids()
    assert pids
    deadline = time.monotonic() + 5  # a SIGKILLed process needs a moment to be a zombie
    while any(live_in_group(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert {pid: live_in_group(pid) for pid in pids} == {pid: [] for pid in pids}
    assert all(gone(pid) for pid in pids)


def test_pytorch_members_get_their_ranks_and_their_lines_are_prefixed(attempt: Attempt) -> None:
    plan = plan_for(
        "pytorch",
        task_name="train",
        command=member_command("*=env"),
        workers=3,
        resources=Resources(cpu=1),
        ports=LocalPorts(),
    )
    assert attempt.run(plan) == 0
    port = str(plan.workers[0].ports["master"])
    names = ["master-0", "worker-0", "worker-1"]
    for rank, name in enumerate(names):
        env = attempt.printed_env(name)
        assert (env["RANK"], env["WORLD_SIZE"], env["MASTER_PORT"]) == (str(rank), "3", port)
        assert env["LR"] == "0.1"  # the supervisor's env reaches every member
        assert env["PATH"].startswith(os.path.dirname(sys.executable) + os.pathsep)
        assert attempt.exit_code(name) == "0\n"
        assert stat.S_IMODE(attempt.member(name).stat().st_mode) == 0o700
        assert stat.S_IMODE((attempt.member(name) / "log").stat().st_mode) == 0o600
        line = f"[{name}] ".encode() + attempt.member_log(name)
        assert line in attempt.log().splitlines(keepends=True)
    assert not (attempt.folder / "failure").exists()
    assert_all_gone(attempt)


def test_tensorflow_ends_when_chief_and_workers_finish_and_stops_the_ps(
    attempt: Attempt, tmp_path: Path
) -> None:
    ready = tmp_path / "ps-ready"
    plan = make_plan("tensorflow", f"ps-0=env,touch:{ready},sleep", f"*=wait:{ready},env", ps=1)
    assert attempt.run(plan) == 0
    for name, (kind, index) in {
        "chief-0": ("chief", 0),
        "worker-0": ("worker", 0),
        "ps-0": ("ps", 0),
    }.items():
        config = json.loads(attempt.printed_env(name)["TF_CONFIG"])
        assert config["task"] == {"type": kind, "index": index}
    assert attempt.exit_code("chief-0") == attempt.exit_code("worker-0") == "0\n"
    assert attempt.exit_code("ps-0") == "143\n"  # stopped with SIGTERM
    assert b"[cube] every worker finished; stopping ps-0\n" in attempt.log()
    assert not (attempt.folder / "failure").exists()
    assert_all_gone(attempt)


def test_a_failed_worker_stops_the_others_and_gives_its_code(attempt: Attempt) -> None:
    plan = make_plan("pytorch", "worker-0=say:bye,exit:3", "*=sleep", workers=3)
    assert attempt.run(plan, kill_grace=30) == 3  # the others end on SIGTERM, not the grace
    assert attempt.exit_code("worker-0") == "3\n"
    assert attempt.exit_code("master-0") == attempt.exit_code("worker-1") == "143\n"
    assert (attempt.folder / "failure").read_text() == "worker-0 exited with code 3\n"
    log = attempt.log()
    said = b"[worker-0] bye\n[cube] worker-0 failed: exit code 3; stopping the other workers\n"
    assert said in log
    assert_all_gone(attempt)


def test_a_service_that_ends_early_fails_the_task(attempt: Attempt) -> None:
    plan = make_plan("tensorflow", "ps-0=exit:0", "*=sleep", ps=1)
    assert attempt.run(plan) == 1  # it exited 0, yet too early
    assert (attempt.folder / "failure").read_text() == "ps-0 ended early\n"
    assert b"[cube] ps-0 failed: ended before the task was done;" in attempt.log()
    assert attempt.exit_code("chief-0") == attempt.exit_code("worker-0") == "143\n"
    assert_all_gone(attempt)


def test_sigterm_to_the_supervisor_stops_every_member(attempt: Attempt) -> None:
    proc = attempt.start(make_plan("pytorch", "*=say:ready,sleep"), kill_grace=30)
    attempt.wait_ready("master-0", "worker-0")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 143
    assert attempt.exit_code("master-0") == attempt.exit_code("worker-0") == "143\n"
    assert b"[cube] got SIGTERM; stopping the workers\n" in attempt.log()
    assert not (attempt.folder / "failure").exists()
    assert_all_gone(attempt)


def test_a_member_that_ignores_sigterm_is_killed_after_the_grace(attempt: Attempt) -> None:
    stubborn = 'if [ "$CUBE_WORKER" = worker-0 ]; then trap "" TERM; fi; '  # sh and its command
    command = stubborn + "exec " + member_command("*=say:ready,sleep")
    proc = attempt.start(with_command(make_plan("pytorch"), command), kill_grace=0.5)
    attempt.wait_ready("master-0", "worker-0")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 143
    assert attempt.exit_code("master-0") == "143\n"
    assert attempt.exit_code("worker-0") == "137\n"  # SIGKILL
    assert_all_gone(attempt)


def test_a_command_under_sh_gets_the_grace_to_clean_up(attempt: Attempt) -> None:
    # the member's sh dies of the SIGTERM at once, the python it runs takes a while to end
    proc = attempt.start(make_plan("pytorch", "*=term-cleanup,say:ready,sleep"), kill_grace=30)
    attempt.wait_ready("master-0", "worker-0")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 143
    for name in ("master-0", "worker-0"):
        assert attempt.member_log(name).endswith(b"cleaning up\ncleaned up\n")
        assert f"[{name}] cleaned up\n".encode() in attempt.log()
    assert_all_gone(attempt)


def test_members_die_with_a_killed_supervisor(attempt: Attempt) -> None:
    proc = attempt.start(make_plan("pytorch", "*=say:ready,sleep"))
    attempt.wait_ready("master-0", "worker-0")
    proc.kill()
    proc.wait(timeout=20)
    assert_all_gone(attempt)


def test_a_last_line_without_newline_and_any_bytes_reach_the_log(attempt: Attempt) -> None:
    plan = make_plan("pytorch", "*=say:first,bytes:fffe,partial:tail", workers=1)
    assert attempt.run(plan) == 0
    assert attempt.member_log("master-0") == b"first\n\xff\xfe\ntail"
    assert b"[master-0] first\n[master-0] \xff\xfe\n[master-0] tail\n" in attempt.log()


def test_mpi_writes_the_hostfile_and_names_it_in_the_env(attempt: Attempt) -> None:
    plan = make_plan("mpi", "true", slots=2)
    assert plan.mpi is not None
    dump = member_command("*=show:CUBE_MPI_HOSTFILE,env")  # instead of mpirun
    assert attempt.run(with_command(plan, dump, "launcher-0")) == 0
    hostfile = attempt.folder / "hostfile"
    assert hostfile.read_text() == plan.mpi.hostfile == "127.0.0.1 slots=4\n"
    assert attempt.printed_env("launcher-0")["CUBE_MPI_HOSTFILE"] == str(hostfile)
    assert attempt.member_log("launcher-0").startswith(b"127.0.0.1 slots=4\n")
    for name in ("worker-0", "worker-1"):  # only booked: mpirun starts their ranks
        assert attempt.member(name).is_dir()
        assert not (attempt.member(name) / "pid").exists()


def test_a_bad_gang_file_is_refused_with_a_reason(attempt: Attempt) -> None:
    attempt.folder.mkdir()
    gang_file = attempt.folder / "gang.json"
    gang_file.write_text(json.dumps({"plan": {}, "kill_grace": "soon"}))
    done = subprocess.run(
        [sys.executable, "-m", "cubestudio.drivers.gang", str(gang_file)],
        capture_output=True,
        timeout=20,
    )
    assert done.returncode == 2
    assert b"kill_grace must be a number of seconds" in done.stderr


def test_each_members_own_use_and_peaks_are_sampled(attempt: Attempt) -> None:
    """worker-0 holds 60 MB for a while; the master holds little: each member's usage file
    has its own tree's figures, not the gang's sum."""
    hold = (
        f"{shlex.quote(sys.executable)} -c 'import time; b = bytearray(60 << 20); time.sleep(1.6)'"
    )
    plan = with_command(make_plan("pytorch"), hold, "worker-0")
    plan = with_command(
        plan, f"{shlex.quote(sys.executable)} -c 'import time; time.sleep(1.6)'", "master-0"
    )
    attempt.folder.parent.mkdir(exist_ok=True)
    proc = attempt.start(plan)
    proc.wait(timeout=30)
    assert proc.returncode == 0, attempt.log()
    usage = {
        name: json.loads((attempt.member(name) / "usage").read_text())
        for name in ("master-0", "worker-0")
    }
    assert usage["worker-0"]["rss_max"] >= 60 << 20
    assert usage["master-0"]["rss_max"] < 60 << 20
    assert all(u["samples"] >= 1 and u["cpu_max"] >= 0 for u in usage.values())
    series = read_series(str(attempt.member("worker-0")))
    assert len(series["at"]) >= 1 and max(series["rss"]) >= 60 << 20  # its downsampled points
