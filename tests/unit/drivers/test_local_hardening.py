"""The local driver's hardening: an adopted attempt's process group is cleaned up like a
child's, attempt folders and logs are private, and the slimmer attempt layout (one claim
file, folders made by the engine) still launches exactly once and recovers."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cubestudio.drivers.local import LocalDriver, attempt_dir
from cubestudio.engine.launcher import AttemptKey, LaunchRequest, Outcome, Recovery
from cubestudio.procinfo import start_time
from tests.unit.drivers.waits import gone, outcomes, wait_for

KEY = AttemptKey("r1", "a", 1)


@pytest.fixture
def daemons() -> Iterator[list[int]]:
    """Pids a test learns of; any still alive at the end are killed."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if start_time(pid) is not None:
            os.kill(pid, signal.SIGKILL)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_adopted_attempt_leaves_no_process_of_its_group_behind(
    tmp_path: Path, daemons: list[int]
) -> None:
    """The engine that started it died (here: never looks at it again); another adopts it.
    The daemon the command left, which ignores SIGTERM, must end with the attempt."""
    old = LocalDriver(tmp_path)
    folder = attempt_dir(tmp_path, KEY)
    command = "(trap '' TERM; exec sleep 30) & echo $! > ../daemon.pid; : > ../ready; sleep 0.5"
    old.launch(LaunchRequest(KEY, command))
    wait_for(folder / "ready")
    daemons.append(int((folder / "daemon.pid").read_text()))
    new = LocalDriver(tmp_path)
    assert new.recover(KEY) is Recovery.ADOPTED
    assert outcomes(new) == [Outcome(KEY, 0)]  # the exit status was recorded before the kill
    assert gone(daemons[0])
    outcomes(old)  # reap our child


def test_a_stopped_attempt_records_its_status_and_leaves_nothing_behind(
    tmp_path: Path, daemons: list[int]
) -> None:
    driver = LocalDriver(tmp_path)
    folder = attempt_dir(tmp_path, KEY)
    command = (
        "(trap '' TERM; exec sleep 30) & echo $! > ../daemon.pid;"
        " trap 'echo cleaned; exit 9' TERM; : > ../ready; sleep 30 & wait"
    )
    driver.launch(LaunchRequest(KEY, command))
    wait_for(folder / "ready")
    daemons.append(int((folder / "daemon.pid").read_text()))
    driver.signal(KEY, signal.SIGTERM)
    assert outcomes(driver) == [Outcome(KEY, 9)]
    assert (folder / "exit").read_text() == "9\n"
    assert gone(daemons[0])


def test_attempt_folders_and_logs_are_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        driver = LocalDriver(tmp_path / "runs")
        driver.launch(LaunchRequest(KEY, "echo secret-ish"))
        outcomes(driver)
        noted = AttemptKey("r1", "never-ran", 1)
        driver.note(noted, "cannot render the task's templates")
    finally:
        os.umask(previous)
    folder = attempt_dir(tmp_path / "runs", KEY)
    for path in (folder.parent.parent, folder.parent, folder):
        assert _mode(path) == 0o700, path
    assert _mode(folder / "log") == 0o600
    assert (folder / "log").read_text() == "secret-ish\n"
    noted_folder = attempt_dir(tmp_path / "runs", noted)
    assert _mode(noted_folder) == 0o700
    assert _mode(noted_folder / "log") == 0o600


def test_an_attempt_holds_its_claim_log_exit_and_two_folders(tmp_path: Path) -> None:
    driver = LocalDriver(tmp_path)
    driver.launch(LaunchRequest(KEY, "pwd; test -d $CUBE_OUTPUTS"))
    assert outcomes(driver) == [Outcome(KEY, 0)]
    folder = attempt_dir(tmp_path, KEY)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["exit", "log", "log.index", "outputs", "started", "work"]
    assert (folder / "log").read_text() == f"{folder / 'work'}\n"


def test_a_task_with_a_workdir_gets_no_work_folder(tmp_path: Path) -> None:
    here = tmp_path / "project"
    here.mkdir()
    driver = LocalDriver(tmp_path / "runs")
    driver.launch(LaunchRequest(KEY, "pwd", workdir=str(here)))
    assert outcomes(driver) == [Outcome(KEY, 0)]
    folder = attempt_dir(tmp_path / "runs", KEY)
    assert not (folder / "work").exists()
    assert (folder / "log").read_text() == f"{here}\n"


def test_a_relaunch_after_a_crash_between_folders_and_start_runs_once(tmp_path: Path) -> None:
    """An engine made the folders, then died before starting the wrapper: the next one
    launches into the same folders."""
    counter = tmp_path / "count"
    request = LaunchRequest(KEY, f"echo x >> {counter}")
    for name in ("work", "outputs"):
        (attempt_dir(tmp_path, KEY) / name).mkdir(parents=True)
    driver = LocalDriver(tmp_path)
    assert driver.recover(KEY) is Recovery.NOT_STARTED
    driver.launch(request)
    assert outcomes(driver) == [Outcome(KEY, 0)]
    assert counter.read_text() == "x\n"


def test_an_attempt_an_earlier_wrapper_claimed_with_a_folder_is_adopted(tmp_path: Path) -> None:
    """Earlier wrappers claimed with a `started` folder and wrote `pid` beside it: a run
    resumed after an upgrade adopts such an attempt and never runs it a second time."""
    folder = attempt_dir(tmp_path, KEY)
    (folder / "started").mkdir(parents=True)
    counter = tmp_path / "count"
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        (folder / "pid").write_text(f"{sleeper.pid} {start_time(sleeper.pid)}\n")
        adopter, relauncher = LocalDriver(tmp_path), LocalDriver(tmp_path)
        assert adopter.recover(KEY) is Recovery.ADOPTED
        relauncher.launch(LaunchRequest(KEY, f"echo x >> {counter}"))  # loses the claim
        (folder / "exit").write_text("0\n")  # what the earlier wrapper writes as it ends
        sleeper.kill()
        assert outcomes(adopter) == [Outcome(KEY, 0)]
        assert outcomes(relauncher) == [Outcome(KEY, 0)]  # it followed the earlier one
        assert not counter.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_task_gets_the_signals_python_ignores_back(tmp_path: Path) -> None:
    """`yes` ends quietly on SIGPIPE when `head` has read enough, as in any shell."""
    driver = LocalDriver(tmp_path)
    driver.launch(LaunchRequest(KEY, "yes | head -1"))
    assert outcomes(driver) == [Outcome(KEY, 0)]
    assert (attempt_dir(tmp_path, KEY) / "log").read_text() == "y\n"
