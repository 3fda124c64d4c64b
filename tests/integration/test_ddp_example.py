"""examples/ddp-train.yaml through the real CLI and engine: two CPU members train with
PyTorch DDP (the built-in pytorch-ddp template), the loss falls, and a member that fails once
is resumed from the checkpoint in $CUBE_STATE_DIR by `cube retry`.

They need torch (the `torch` extra, which `make test` installs): without it they fail with
the command that installs it."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from tests.conftest import Cube

pytestmark = pytest.mark.slow

EXAMPLE = str(Path(__file__).parents[2] / "examples" / "ddp-train.yaml")
EPOCHS = 5  # the example's default
TIMEOUT = 180  # seconds for one `cube run`: torch's import takes a few on a busy machine


@pytest.fixture(autouse=True)
def _torch() -> None:
    if importlib.util.find_spec("torch") is not None:
        return
    pytest.fail("torch is not installed: `make extras` (or pip install 'cube-studio[torch]')")


def _epochs(log: str) -> list[tuple[int, float]]:
    """(epoch, loss) of each `[master-0] epoch E loss L` line: rank 0 prints them."""
    found = re.findall(r"^\[master-0\] epoch (\d+) loss (\S+)$", log, re.MULTILINE)
    return [(int(epoch), float(loss)) for epoch, loss in found]


def _log(cube: Cube, run_id: str, *args: str) -> str:
    shown = cube("logs", run_id, "train", *args)
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def test_two_members_train_and_the_loss_falls(cube_sqlite: Cube) -> None:
    result = cube_sqlite.json("run", EXAMPLE, "--json", expect=0, timeout=TIMEOUT)
    assert result["tasks"]["train"]["status"] == "succeeded"
    log = _log(cube_sqlite, result["run_id"])
    epochs = _epochs(log)
    assert [epoch for epoch, _ in epochs] == list(range(1, EPOCHS + 1)), log
    losses = [loss for _, loss in epochs]
    assert losses == sorted(losses, reverse=True) and losses[-1] < losses[0] / 2, losses
    # both members ran, each on its half of the data, and their lines are told apart
    assert re.search(r"^\[master-0\] rank 0 of 2: 512 samples per epoch$", log, re.MULTILINE)
    assert re.search(r"^\[worker-0\] rank 1 of 2: 512 samples per epoch$", log, re.MULTILINE)
    assert "resuming" not in log


def test_a_member_that_fails_once_is_resumed_from_the_checkpoint_by_retry(
    cube_sqlite: Cube,
) -> None:
    args = ("run", EXAMPLE, "--param", "crash_once_at_epoch=2", "--json")
    failed = cube_sqlite.json(*args, expect=1, timeout=TIMEOUT)
    run_id = failed["run_id"]
    assert failed["tasks"]["train"]["status"] == "failed"
    first = _log(cube_sqlite, run_id)
    assert "[worker-0] rank 1: failing on purpose at the start of epoch 2" in first
    assert [epoch for epoch, _ in _epochs(first)] == [1]  # epoch 1 was done and checkpointed

    retried = cube_sqlite.json("retry", run_id, "--json", expect=0, timeout=TIMEOUT)
    train = retried["tasks"]["train"]
    assert (train["status"], train["attempts"]) == ("succeeded", 2)
    second = _log(cube_sqlite, run_id, "--attempt", "2")
    assert re.search(r"^\[master-0\] resuming from epoch 2 ", second, re.MULTILINE), second
    assert [epoch for epoch, _ in _epochs(second)] == list(range(2, EPOCHS + 1))
    assert "failing on purpose" not in second  # the marker in $CUBE_STATE_DIR was kept
    assert _log(cube_sqlite, run_id, "--attempt", "1") == first
