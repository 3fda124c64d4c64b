"""Masking secrets in log lines: every occurrence of every secret becomes ``******``.

The engine writes a run's secret values to ``runs/<run_id>/secrets.json`` (mode 0600).
Masking happens on whole lines, before any filtering, so that ``--grep`` cannot be used to
probe a secret's text one character at a time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from cubestudio.errors import CubeError

SECRETS_FILE = "secrets.json"
MASK = b"******"


def load_secrets(run_folder: Path) -> list[str]:
    """The run's secret values; none when the run has no secrets file.

    The file holds a JSON list of values, or an object of NAME: value (the engine keeps the
    names too, to give the tasks their env back after a restart): only the values matter here.
    A file that exists but cannot be used is an error: logs shown unmasked are worse than none.
    """
    path = run_folder / SECRETS_FILE
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CubeError(
            f"cannot read the run's secrets from {path} ({err}); logs are not shown unmasked"
        ) from None
    values = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
        raise CubeError(
            f"{path} must hold a JSON list of strings or an object of strings; "
            "logs are not shown unmasked"
        )
    return values


def mask_values(values: Mapping[str, str], secrets: Iterable[str]) -> dict[str, str]:
    """Values (a task's value outputs) with every secret masked, as logs show them: stored
    so, neither the database nor a downstream task's template ever gets the raw secret."""
    masker = Masker(secrets)
    return {name: masker.mask_text(value) for name, value in values.items()}


class Masker:
    """Replaces secrets in blocks of whole lines.

    Where secrets overlap ("abc" and "bcd" in "abcd") every byte either covers is masked, and
    at any one position the longest secret wins, so a secret that contains another is masked
    whole. A multi-line secret (a key file) is masked line by line, as logs are read by line.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        parts = {line.removesuffix("\r") for secret in secrets for line in secret.split("\n")}
        self.secrets = sorted((p.encode() for p in parts if p), key=len, reverse=True)
        # How far past a cut ``safe_cut`` must see to know whether a secret straddles it.
        self.reach = len(self.secrets[0]) - 1 if self.secrets else 0
        # A lookahead matches at every position a secret starts, overlapping ones included.
        alternatives = b"|".join(re.escape(s) for s in self.secrets)
        self._starts = re.compile(b"(?=(" + alternatives + b"))") if self.secrets else None

    def mask(self, block: bytes) -> bytes:
        if self._starts is None or not any(s in block for s in self.secrets):
            return block  # the common case: one fast substring scan per secret
        pieces: list[bytes] = []
        done = 0  # bytes of the block already handled
        for start, end in self._spans(block):
            pieces += [block[done:start], MASK]
            done = end
        pieces.append(block[done:])
        return b"".join(pieces)

    def mask_text(self, text: str) -> str:
        """``mask`` for text (a value output, a rendered command). Masking swaps whole UTF-8
        sequences for ASCII, so the result decodes; undecodable input is kept as it came
        (surrogate escapes), not lost."""
        if self._starts is None:
            return text
        raw = text.encode("utf-8", "surrogateescape")
        return self.mask(raw).decode("utf-8", "surrogateescape")

    def safe_cut(self, data: bytes, at: int) -> int:
        """A cut at or before ``at`` that splits no secret, so each piece can be masked alone."""
        cut = at
        moved = True
        while moved and cut > 0:
            moved = False
            for secret in self.secrets:
                # The leftmost occurrence that could straddle the cut, if any does.
                hit = data.find(secret, max(0, cut - len(secret) + 1), cut + len(secret) - 1)
                if 0 <= hit < cut:
                    cut, moved = hit, True
        return cut if cut > 0 else at  # only a secret longer than the cut window gets here

    def _spans(self, block: bytes) -> list[tuple[int, int]]:
        """The union of all occurrences, as sorted disjoint (start, end) spans."""
        assert self._starts is not None
        spans: list[tuple[int, int]] = []
        for match in self._starts.finditer(block):
            start, end = match.span(1)
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
        return spans
