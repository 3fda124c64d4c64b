"""Resource monitoring and right-sizing of tasks.

- ``sampler``: what one running attempt uses now (CPU, RSS of its whole process tree, GPU
  through NVML where an NVIDIA GPU is present), read with psutil; no store, no engine.
- ``series``: pure downsampling of an attempt's samples into stored points, and its peaks.
- ``recorder``: what the local driver calls once a second; keeps each attempt's series in
  memory and writes them in batches (one transaction every ``FLUSH_SECONDS`` for every
  attempt, and at an attempt's end), never one per sample.
- ``rightsize``: pure: requests suggested from the peaks of a task's last runs.

Invariants: sampling never fails a task or the engine (a process that vanished, a missing
GPU library, a database outage only lose samples); peaks are exact (every raw sample counts),
the series is downsampled and bounded per attempt.
"""
