"""A gang member that records itself: appends "start TIME PIPELINE WORKER DEVICES" to the
journal file given as its first argument, waits until the file named by the second exists
(when one is given), holds for a moment, then appends "end ..." the same way."""

import os
import sys
import time
from pathlib import Path


def note(journal: Path, kind: str) -> None:
    words = [
        kind,
        f"{time.time():.6f}",
        os.environ["CUBE_PIPELINE_NAME"],
        os.environ["CUBE_WORKER"],
        os.environ.get("CUBE_ATTEMPT", "?"),
        os.environ.get("CUDA_VISIBLE_DEVICES", "-") or "-",
    ]
    with open(journal, "a") as out:
        out.write(" ".join(words) + "\n")


journal = Path(sys.argv[1])
note(journal, "start")
print(f"{os.environ['CUBE_WORKER']} up, rank {os.environ['RANK']}", flush=True)
if len(sys.argv) > 2:
    while not Path(sys.argv[2]).exists():
        time.sleep(0.02)
time.sleep(0.5)
note(journal, "end")
