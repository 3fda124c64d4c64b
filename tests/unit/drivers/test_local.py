"""The local driver with real processes: the launch claim, adoption, exit status files."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from cubestudio.drivers.local import LocalDriver, attempt_dir
from cubestudio.engine.launcher import AttemptKey, LaunchRequest, Outcome, Recovery
from tests.unit.drivers.waits import gone, outcomes, wait_for


def test_an_attempt_runs_with_its_env_and_records_its_exit(tmp_path: Path) -> None:
    driver = LocalDriver(tmp_path)
    key = AttemptKey("r1", "a", 1)
    driver.launch(
        LaunchRequest(key, 'echo "$GREETING from $(basename $PWD)"; exit 7', {"GREETING": "hi"})
    )
    assert outcomes(driver) == [Outcome(key, 7)]
    folder = attempt_dir(tmp_path, key)
    assert (folder / "log").read_text() == "hi from work\n"
    assert (folder / "exit").read_text() == "7\n"
    pid, start = (folder / "started").read_text().split()  # the claim says who ran it
    assert int(pid) > 0 and int(start) > 0


def test_the_launch_claim_runs_an_attempt_exactly_once(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    first, second = LocalDriver(tmp_path), LocalDriver(tmp_path)
    key = AttemptKey("r1", "a", 1)
    request = LaunchRequest(key, f"echo x >> {counter}; sleep 0.5")
    first.launch(request)
    second.launch(request)  # a second engine launching the same attempt
    assert outcomes(first) == [Outcome(key, 0)]
    assert outcomes(second) == [Outcome(key, 0)]  # it followed the winner instead
    assert counter.read_text() == "x\n"


def test_recover_adopts_a_running_attempt_and_collects_it(tmp_path: Path) -> None:
    old = LocalDriver(tmp_path)
    key = AttemptKey("r1", "a", 1)
    old.launch(LaunchRequest(key, "sleep 0.5"))
    wait_for(attempt_dir(tmp_path, key) / "started")
    new = LocalDriver(tmp_path)
    assert new.recover(key) is Recovery.ADOPTED
    assert outcomes(new) == [Outcome(key, 0)]
    outcomes(old)  # reap our child


def test_recover_tells_never_started_finished_and_lost(tmp_path: Path) -> None:
    driver = LocalDriver(tmp_path)
    assert driver.recover(AttemptKey("r1", "never", 1)) is Recovery.NOT_STARTED
    done = AttemptKey("r1", "done", 1)
    driver.launch(LaunchRequest(done, "exit 3"))
    outcomes(driver)
    assert LocalDriver(tmp_path).recover(done) is Recovery.FINISHED
    lost = AttemptKey("r1", "lost", 1)
    driver.launch(LaunchRequest(lost, "sleep 30"))
    time.sleep(0.2)
    driver.signal(lost, signal.SIGKILL)  # killed with its group: no exit file
    assert outcomes(driver) == [Outcome(lost, None)]
    other = LocalDriver(tmp_path)
    assert other.recover(lost) is Recovery.LOST
    assert other.poll() == [Outcome(lost, None)]


def test_outputs_are_read_and_missing_ones_named(tmp_path: Path) -> None:
    driver = LocalDriver(tmp_path)
    key = AttemptKey("r1", "a", 1)
    driver.launch(LaunchRequest(key, 'echo 42 > "$CUBE_OUTPUTS/rows"'))
    outcomes(driver)
    assert driver.read_outputs(key, ["rows"]) == ({"rows": "42"}, "")
    values, problem = driver.read_outputs(key, ["rows", "size"])
    assert problem == "declared output 'size' was not written: write it to $CUBE_OUTPUTS/size"
    os.symlink("/etc/passwd", attempt_dir(tmp_path, key) / "outputs" / "link")
    assert "not written" in driver.read_outputs(key, ["link"])[1]  # symlinks are refused


def test_sigterm_reaches_the_command_and_the_wrapper_waits_for_its_clean_up(
    tmp_path: Path,
) -> None:
    driver = LocalDriver(tmp_path)
    key = AttemptKey("r1", "a", 1)
    command = "trap 'sleep 0.5; echo cleaned; exit 9' TERM; touch ../ready; sleep 30 & wait"
    driver.launch(LaunchRequest(key, command))
    wait_for(attempt_dir(tmp_path, key) / "ready")
    started = time.monotonic()
    driver.signal(key, signal.SIGTERM)
    assert outcomes(driver) == [Outcome(key, 9)]  # the command's own exit status, recorded
    assert time.monotonic() - started >= 0.5  # only once its clean-up was done
    assert (attempt_dir(tmp_path, key) / "log").read_text() == "cleaned\n"


def test_leftover_processes_of_an_attempt_are_killed_when_it_ends(tmp_path: Path) -> None:
    driver = LocalDriver(tmp_path)
    key = AttemptKey("r1", "a", 1)
    driver.launch(LaunchRequest(key, "(trap '' TERM; sleep 30) & echo $! > ../daemon.pid"))
    assert outcomes(driver) == [Outcome(key, 0)]
    daemon = int((attempt_dir(tmp_path, key) / "daemon.pid").read_text())
    assert gone(daemon)
