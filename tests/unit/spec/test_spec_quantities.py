"""Durations and resource quantities, parsed directly (cubestudio.spec.quantities)."""

from __future__ import annotations

import pytest

from cubestudio.spec.quantities import DURATION_HINT, parse_cpu, parse_duration, parse_memory


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("2d", 172800.0),
        ("1d2h3m4s", 86400.0 + 7200.0 + 180.0 + 4.0),
        ("0.2s", 0.2),
        ("1.5h", 5400.0),
        ("  45s  ", 45.0),
        ("0s", 0.0),
        (90, 90.0),
        (0, 0.0),
        (2.5, 2.5),
    ],
)
def test_duration_forms(value: object, seconds: float) -> None:
    result = parse_duration(value)
    assert isinstance(result, float)
    assert result == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["10x", "", "   ", "1h 30m", "s", "m5", "5sm", "-5s", "1.s"])
def test_bad_duration_text(value: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert str(info.value) == f"{value!r} is not a duration ({DURATION_HINT})"


@pytest.mark.parametrize("value", [True, False, None, [30], {"s": 30}])
def test_duration_refuses_non_numbers(value: object) -> None:
    with pytest.raises(ValueError, match=r"is not a duration \(use a number of seconds"):
        parse_duration(value)


@pytest.mark.parametrize("value", [-1, -0.5])
def test_negative_duration(value: float) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert str(info.value) == f"{value!r} is negative ({DURATION_HINT})"


@pytest.mark.parametrize(
    ("value", "cores"),
    [("500m", 0.5), ("250m", 0.25), ("2", 2.0), ("0.5", 0.5), (" 1.5 ", 1.5), (2, 2.0), (0.1, 0.1)],
)
def test_cpu_forms(value: object, cores: float) -> None:
    assert parse_cpu(value) == pytest.approx(cores)


@pytest.mark.parametrize("value", ["abc", "1 core", "-1", "500M", "", "1e3"])
def test_bad_cpu_text(value: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_cpu(value)
    assert str(info.value) == f"{value!r} is not a cpu amount (use e.g. 1, 0.5 or '500m')"


@pytest.mark.parametrize("value", [0, -1, "0", "0m", 0.0])
def test_cpu_must_be_positive(value: object) -> None:
    with pytest.raises(ValueError) as info:
        parse_cpu(value)
    assert str(info.value) == f"cpu must be more than 0, got {value!r}"


def test_cpu_refuses_bool() -> None:
    with pytest.raises(ValueError, match="cpu must be a number of cores"):
        parse_cpu(True)


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("1Gi", 1073741824),
        ("512Mi", 512 * 2**20),
        ("4Ki", 4096),
        ("1Ti", 2**40),
        ("1G", 10**9),
        ("2M", 2 * 10**6),
        ("3k", 3000),
        ("3K", 3000),
        ("1T", 10**12),
        ("1.5Gi", 3 * 2**29),
        ("1024", 1024),
        (1073741824, 1073741824),
    ],
)
def test_memory_forms(value: object, size: int) -> None:
    result = parse_memory(value)
    assert isinstance(result, int)
    assert result == size


@pytest.mark.parametrize("value", ["1Q", "1 Gi", "Gi", "1gi", "-1Gi", "1GiB", ""])
def test_bad_memory_text(value: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_memory(value)
    assert str(info.value) == f"{value!r} is not a memory size (use e.g. '512Mi', '2Gi', '1G')"


def test_memory_refuses_float_and_bool() -> None:
    with pytest.raises(ValueError, match="1.5 is not a memory size"):
        parse_memory(1.5)
    with pytest.raises(ValueError, match="memory must be a size such as '512Mi' or '2Gi'"):
        parse_memory(False)


@pytest.mark.parametrize("value", [0, -5, "0", "0Gi", "0.1"])
def test_memory_must_be_positive(value: object) -> None:
    with pytest.raises(ValueError) as info:
        parse_memory(value)
    assert str(info.value) == f"memory must be more than 0, got {value!r}"
