"""Masking text that is not a log: value outputs and rendered commands."""

from __future__ import annotations

from cubestudio.logs.mask import Masker, mask_values


def test_every_occurrence_of_every_secret_in_a_value_is_masked() -> None:
    values = {"a": "u=admin p=hunter2 again hunter2", "b": "nothing here", "c": ""}
    assert mask_values(values, ["hunter2", "admin"]) == {
        "a": "u=****** p=****** again ******",
        "b": "nothing here",
        "c": "",
    }


def test_no_secrets_leave_values_as_they_are() -> None:
    assert mask_values({"a": "hunter2"}, []) == {"a": "hunter2"}


def test_text_masking_keeps_unicode_and_masks_a_key_line_by_line() -> None:
    masker = Masker(["pässwörd", "-----BEGIN KEY-----\nAAAA\n-----END KEY-----"])
    assert masker.mask_text("ü pässwörd ü") == "ü ****** ü"
    key = "x\n-----BEGIN KEY-----\nAAAA\n-----END KEY-----\n"
    assert masker.mask_text(key) == "x\n******\n******\n******\n"


def test_text_that_is_not_utf8_is_kept_around_the_mask() -> None:
    text = b"\xff hunter2 \xfe".decode("utf-8", "surrogateescape")
    masked = Masker(["hunter2"]).mask_text(text)
    assert masked.encode("utf-8", "surrogateescape") == b"\xff ****** \xfe"
