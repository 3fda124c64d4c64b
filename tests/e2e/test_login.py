"""Logging in and out in the browser: a wrong password is refused inline, a page visited
without a session leads to the login, a reload keeps the session."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORT, Server, login, shot


def test_a_wrong_password_is_refused_inline_then_the_right_one_logs_in(
    browser: Any, server: Server
) -> None:
    context = browser.new_context(viewport=VIEWPORT, base_url=server.url)
    tab = context.new_page()
    try:
        tab.goto("/runs")
        tab.wait_for_url("**/login")
        tab.fill("input[name=username]", "admin")
        tab.fill("input[name=password]", "not-the-password")
        tab.click("button[type=submit]")
        expect(tab.get_by_role("alert")).to_contain_text("password")
        shot(tab, "01-login-refused")
        login(tab)
        expect(tab.get_by_test_id("user-name")).to_have_text("admin")
        tab.reload()
        tab.wait_for_url("**/pipelines")
        expect(tab.get_by_test_id("user-name")).to_have_text("admin")
        tab.get_by_role("button", name="Log out").click()
        tab.wait_for_url("**/login")
    finally:
        context.close()
