"""Data-parallel training with PyTorch DDP, run by every member of the pytorch-ddp template
(examples/ddp-train.yaml).

The gang's environment (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK) is what torchrun sets,
so `init_process_group("gloo")` needs no arguments. Each rank fits a small network to its own
shard of a seeded synthetic regression set; DDP averages the gradients. Rank 0 prints each
epoch's loss (the mean over all ranks), checkpoints the model, optimizer and epoch to
$CUBE_STATE_DIR/checkpoint.pt after every epoch (the folder is kept across the task's
attempts) and writes the final loss to $CUBE_OUTPUTS/loss when that is set. A new attempt
resumes from the checkpoint.

--crash-once-at-epoch E makes rank 1 fail once at the start of epoch E (a marker file in the
checkpoint folder remembers that it did): the attempt fails, and `cube retry RUN` resumes.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

CHECKPOINT = "checkpoint.pt"
CRASH_MARKER = "crashed-once"
GANG_ENV = ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument(
        "--checkpoint-dir",
        default=os.environ.get("CUBE_STATE_DIR", ""),
        help="where the checkpoint is kept (default: $CUBE_STATE_DIR)",
    )
    parser.add_argument(
        "--crash-once-at-epoch",
        type=int,
        default=0,
        metavar="E",
        help="rank 1 exits with code 1 at the start of epoch E, once (0: never)",
    )
    args = parser.parse_args()
    if not args.checkpoint_dir:
        parser.error("give --checkpoint-dir, or run it as a task (which sets $CUBE_STATE_DIR)")
    missing = [name for name in GANG_ENV if name not in os.environ]
    if missing:
        parser.error(
            f"{', '.join(missing)} not set: run it with the pytorch-ddp template or torchrun"
        )
    return args


def synthetic_data(samples: int) -> TensorDataset:
    """The same data on every rank (seeded): y = x . w + 0.5 sin(x0) + noise."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(samples, 8, generator=generator)
    w = torch.randn(8, 1, generator=generator)
    y = x @ w + 0.5 * torch.sin(x[:, :1]) + 0.05 * torch.randn(samples, 1, generator=generator)
    return TensorDataset(x, y)


def load_checkpoint(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer
) -> tuple[int, float]:
    """The last finished epoch and its loss ((0, nan) without a checkpoint); model and
    optimizer restored."""
    if not path.exists():
        return 0, float("nan")
    state: dict[str, Any] = torch.load(path, map_location="cpu")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return int(state["epoch"]), float(state["loss"])


def save_checkpoint(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int, loss: float
) -> None:
    # Written whole, then renamed: a member killed mid-write leaves the previous checkpoint.
    partial = path.with_name(path.name + ".tmp")
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "loss": loss,
    }
    torch.save(state, partial)
    os.replace(partial, path)


def crash_once(folder: Path, rank: int, epoch: int, at_epoch: int) -> None:
    """Rank 1 fails at the start of ``at_epoch`` unless it already did (the marker says)."""
    marker = folder / CRASH_MARKER
    if rank != 1 or epoch != at_epoch or marker.exists():
        return
    marker.touch()
    print(f"rank 1: failing on purpose at the start of epoch {epoch}", flush=True)
    os._exit(1)  # as a crash would: no clean shutdown of the process group


def train_epoch(
    model: nn.Module, loader: DataLoader[Any], optimizer: torch.optim.Optimizer
) -> float:
    """One pass over this rank's shard; the mean loss over every rank's samples."""
    loss_fn = nn.MSELoss()
    total = torch.zeros(2)  # sum of losses, sample count
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()  # DDP averages the gradients across ranks here
        optimizer.step()
        total += torch.tensor([loss.item() * len(x), len(x)])
    dist.all_reduce(total)
    return float(total[0] / total[1])


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)  # a gang of CPU processes on one machine: one core each
    dist.init_process_group("gloo")  # MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK from env
    rank, world = dist.get_rank(), dist.get_world_size()
    folder = Path(args.checkpoint_dir)
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint = folder / CHECKPOINT

    torch.manual_seed(0)  # the same initial weights on every rank
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    done, loss = load_checkpoint(checkpoint, model, optimizer)
    if done and rank == 0:
        resumed = f"resuming from epoch {done + 1}" if done < args.epochs else "nothing to do"
        print(f"{resumed} (the checkpoint holds epoch {done})", flush=True)
    ddp = DistributedDataParallel(model)

    data = synthetic_data(args.samples)
    sampler: DistributedSampler[int] = DistributedSampler(
        data, num_replicas=world, rank=rank, shuffle=True, seed=0
    )
    loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler)
    print(f"rank {rank} of {world}: {len(sampler)} samples per epoch", flush=True)

    for epoch in range(done + 1, args.epochs + 1):
        crash_once(folder, rank, epoch, args.crash_once_at_epoch)
        sampler.set_epoch(epoch)
        loss = train_epoch(ddp, loader, optimizer)
        if rank == 0:
            print(f"epoch {epoch} loss {loss:.6f}", flush=True)
            save_checkpoint(checkpoint, model, optimizer, epoch, loss)
        dist.barrier()  # no rank goes on (or fails) before the epoch's checkpoint is saved

    outputs = os.environ.get("CUBE_OUTPUTS")
    if rank == 0 and outputs:
        Path(outputs, "loss").write_text(f"{loss:.6f}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
