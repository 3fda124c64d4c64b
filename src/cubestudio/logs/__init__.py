"""Task logs: reading, tailing, filtering, following and masking the log files that task
attempts write, for the CLI (`cube logs`) and any other reader.

What it owns: how a log is read (``reader``), the last N lines (``tail``), ``--grep``
(``grep``), secret masking (``mask``), the time index the engine appends (``index``), one
attempt's log as output (``source``) and a run's logs (``view``).

Invariants: a log is never read whole into memory, only in bounded blocks; every line shown
passes through the masker first, whatever the mode; nothing here writes a log (the engine
and its driver do), except ``append_index``, which the engine calls.
"""

from cubestudio.logs.index import append_index
from cubestudio.logs.mask import load_secrets

__all__ = ["append_index", "load_secrets"]
