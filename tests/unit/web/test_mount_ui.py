"""`cube server` serves the web UI's build at / beside the API: files of the build, the
single-page app's index.html for its own URLs, never a file outside the build, and the API's
own 404s untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cubestudio.web import mount_ui


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><div id=root></div>")
    (root / "assets" / "index-abc123.js").write_text("console.log(1)")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("not for the web")
    return root


def _client(dist: Path) -> TestClient:
    app = FastAPI()

    @app.get("/api/v1/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    mount_ui(app, dist)
    return TestClient(app)


def test_the_index_is_served_at_the_root_and_for_every_page_of_the_app(dist: Path) -> None:
    client = _client(dist)
    for path in ("/", "/pipelines", "/pipelines/diamond", "/runs/abc?status=failed"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<div id=root>" in response.text
        assert response.headers["cache-control"] == "no-cache"


def test_hashed_assets_are_cached_for_good_and_other_files_revalidated(dist: Path) -> None:
    client = _client(dist)
    asset = client.get("/assets/index-abc123.js")
    assert asset.text == "console.log(1)"
    assert "immutable" in asset.headers["cache-control"]
    icon = client.get("/favicon.svg")
    assert icon.text == "<svg/>" and icon.headers["cache-control"] == "no-cache"


def test_no_file_outside_the_build_is_served(dist: Path) -> None:
    client = _client(dist)
    for path in ("/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"):
        response = client.get(path)
        assert "not for the web" not in response.text, path


def test_the_api_keeps_its_own_routes_and_404s(dist: Path) -> None:
    client = _client(dist)
    assert client.get("/api/v1/ping").json() == {"pong": "yes"}
    assert client.get("/api/v1/nothing-here").status_code == 404
    assert client.get("/metrics").status_code == 404  # not the app's index


def test_without_a_build_the_root_says_how_to_make_one(tmp_path: Path) -> None:
    response = _client(tmp_path / "missing").get("/")
    assert response.status_code == 503
    assert "make ui" in response.text
