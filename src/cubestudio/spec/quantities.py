"""Durations ("90s", "10m", "1h30m") and resource quantities ("500m" CPU, "1Gi" memory)."""

from __future__ import annotations

import re

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
DURATION_HINT = "use a number of seconds or e.g. 30s, 10m, 1h30m, 2d"

_MEMORY = re.compile(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?")
_MEMORY_UNITS = {
    None: 1,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def parse_duration(value: object) -> float:
    """Seconds in a duration; raises ValueError with a hint when it is not one."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration ({DURATION_HINT})")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"{value!r} is negative ({DURATION_HINT})")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration ({DURATION_HINT})")
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):  # a number of seconds, quoted
        return float(text)
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        raise ValueError(f"{value!r} is not a duration ({DURATION_HINT})")
    return total


def parse_cpu(value: object) -> float:
    """Cores from 2, 0.5 or "500m"."""
    if isinstance(value, bool):
        raise ValueError("cpu must be a number of cores such as 1, 0.5 or '500m'")
    if isinstance(value, int | float):
        cores = float(value)
    elif isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?m?", value.strip()):
        text = value.strip()
        cores = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    else:
        raise ValueError(f"{value!r} is not a cpu amount (use e.g. 1, 0.5 or '500m')")
    if cores <= 0:
        raise ValueError(f"cpu must be more than 0, got {value!r}")
    return cores


def parse_memory(value: object) -> int:
    """Bytes from 1073741824, "1Gi", "512Mi" or "1G"."""
    if isinstance(value, bool):
        raise ValueError("memory must be a size such as '512Mi' or '2Gi'")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (match := _MEMORY.fullmatch(value.strip())):
        size = int(float(match.group(1)) * _MEMORY_UNITS[match.group(2)])
    else:
        raise ValueError(f"{value!r} is not a memory size (use e.g. '512Mi', '2Gi', '1G')")
    if size <= 0:
        raise ValueError(f"memory must be more than 0, got {value!r}")
    return size
