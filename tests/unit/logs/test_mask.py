"""Masking: every secret in every line shown, on whole lines, wherever reads are cut."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cubestudio.errors import CubeError
from cubestudio.logs import load_secrets
from cubestudio.logs.mask import Masker
from cubestudio.logs.source import Source


def shown(source: Source) -> bytes:
    return b"".join(source.read()) + source.finish()


def test_load_secrets(tmp_path: Path) -> None:
    assert load_secrets(tmp_path) == []
    (tmp_path / "secrets.json").write_text(json.dumps(["s3cr3t", "tok"]))
    assert load_secrets(tmp_path) == ["s3cr3t", "tok"]
    (tmp_path / "secrets.json").write_text(json.dumps({"TOKEN": "s3cr3t", "KEY": "k"}))
    assert load_secrets(tmp_path) == ["s3cr3t", "k"]  # the engine's form: NAME: value


@pytest.mark.parametrize("content", ["{not json", '"text"', '["ok", 3]', '{"A": 1}'])
def test_an_unreadable_secrets_file_refuses_to_show_logs(tmp_path: Path, content: str) -> None:
    (tmp_path / "secrets.json").write_text(content)
    with pytest.raises(CubeError, match="logs are not shown unmasked"):
        load_secrets(tmp_path)


def test_every_occurrence_is_masked() -> None:
    masker = Masker(["hunter2"])
    block = b"pw=hunter2 again hunter2\nnothing here\nhunter2hunter2\n"
    assert masker.mask(block) == b"pw=****** again ******\nnothing here\n******\n"


def test_a_secret_containing_another_is_masked_whole() -> None:
    masker = Masker(["pass", "password123"])
    assert masker.mask(b"x password123 y pass\n") == b"x ****** y ******\n"


def test_overlapping_secrets_leave_no_byte_of_either() -> None:
    masker = Masker(["abc", "bcd"])
    assert masker.mask(b"xabcdx\n") == b"x******x\n"


def test_a_multi_line_secret_is_masked_line_by_line() -> None:
    masker = Masker(["-----KEY-----\r\nAAAA\n-----END-----\n"])
    block = b"-----KEY-----\nAAAA\n-----END-----\nafter\n"
    assert masker.mask(block) == b"******\n******\n******\nafter\n"


def test_no_secrets_leaves_blocks_untouched() -> None:
    block = b"anything\n"
    assert Masker([]).mask(block) is block
    assert Masker([""]).mask(block) is block


def test_safe_cut_moves_off_a_secret() -> None:
    masker = Masker(["SECRET"])
    data = b"0123SECRET89"
    assert masker.safe_cut(data, 7) == 4  # would have split S-E-C | R-E-T
    assert masker.safe_cut(data, 4) == 4
    assert masker.safe_cut(data, 11) == 11


def test_a_secret_split_across_read_blocks_is_masked(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"key: topsecretvalue end\nline two topsecretvalue\n")
    source = Source(log, masker=Masker(["topsecretvalue"]), block=5)
    assert shown(source) == b"key: ****** end\nline two ******\n"


def test_a_secret_at_the_cut_of_an_over_long_line_is_masked(tmp_path: Path) -> None:
    log = tmp_path / "log"
    for at in range(10, 30):  # the secret at every position around the cut at 16
        log.write_bytes(b"x" * at + b"SECRET" + b"y" * 30)
        source = Source(log, masker=Masker(["SECRET"]), block=4, max_line=16)
        out = shown(source)
        assert b"SECRET" not in out.replace(b"\n", b"") and out.count(b"******") == 1, at


def test_an_unterminated_last_line_is_masked(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"done\nsecret=abc123")
    assert shown(Source(log, masker=Masker(["abc123"]))) == b"done\nsecret=******\n"
