"""A training script kept next to its pipeline (examples/train-script.yaml).

Fits y = 3x + 1 by gradient descent on a small synthetic data set (no packages needed), prints
the loss of each epoch, and writes the final loss to $CUBE_OUTPUTS/loss for the next task.
"""

from __future__ import annotations

import argparse
import os
import random


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--epochs", type=int, required=True)
    args = parser.parse_args()
    print(f"training with lr={args.lr} for {args.epochs} epochs")
    rng = random.Random(0)
    data = [(x, 3 * x + 1 + rng.gauss(0, 0.1)) for x in (i / 50 for i in range(50))]
    w = b = 0.0
    loss = 0.0
    for epoch in range(1, args.epochs + 1):
        grad_w = sum(2 * (w * x + b - y) * x for x, y in data) / len(data)
        grad_b = sum(2 * (w * x + b - y) for x, y in data) / len(data)
        w, b = w - args.lr * grad_w, b - args.lr * grad_b
        loss = sum((w * x + b - y) ** 2 for x, y in data) / len(data)
        print(f"epoch {epoch} loss={loss:.4f}")
    with open(os.path.join(os.environ["CUBE_OUTPUTS"], "loss"), "w") as out:
        out.write(f"{loss:.4f}")


if __name__ == "__main__":
    main()
