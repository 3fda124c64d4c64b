"""Leaving the editor with unsaved edits for another page of the app asks first, inline;
leaving anyway keeps the edits as a draft that comes back with the pipeline."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, shot


def test_leaving_with_unsaved_edits_asks_and_keeps_the_draft(page: Any, server: Server) -> None:
    page.goto("/pipelines/hello")
    expect(page.get_by_test_id("save-badge")).to_have_text("saved")
    description = page.get_by_test_id("pipeline-settings").get_by_label("description")
    description.fill("edited, not saved")
    expect(page.get_by_test_id("save-badge")).to_have_text("unsaved")

    page.get_by_role("link", name="Runs").click()
    dialog = page.get_by_test_id("leave-dialog")
    expect(dialog).to_be_visible()
    shot(page, "60-editor-leave-dialog")
    dialog.get_by_role("button", name="Stay").click()
    expect(dialog).to_be_hidden()
    assert page.url.endswith("/pipelines/hello")

    page.get_by_role("link", name="Runs").click()
    page.get_by_test_id("leave-dialog").get_by_role("button", name="Leave").click()
    page.wait_for_url("**/runs")

    page.goto("/pipelines/hello")
    expect(page.get_by_test_id("draft-banner")).to_be_visible()
    settings = page.get_by_test_id("pipeline-settings")
    expect(settings.get_by_label("description")).to_have_value("edited, not saved")


def test_a_saved_pipeline_leaves_without_asking(page: Any, server: Server) -> None:
    page.goto("/pipelines/diamond")
    expect(page.get_by_test_id("save-badge")).to_have_text("saved")
    page.get_by_role("link", name="Templates").click()
    page.wait_for_url("**/templates")
    expect(page.get_by_test_id("leave-dialog")).to_have_count(0)
