"""Where the web UI's tools are: Node.js and the installed ui/node_modules. Tests that need
them skip where they are absent (the Python package works without Node), except under
`make test`, which sets CUBE_REQUIRE_UI=1: there a missing tool is a failure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
UI = ROOT / "ui"


def require_node() -> Path:
    """The ui/ folder, with Node.js and its node_modules; skip (or fail under make test)."""
    missing = None
    if shutil.which("node") is None:
        missing = "Node.js is not installed"
    elif not (UI / "node_modules" / ".bin" / "openapi-ts").exists():
        missing = "ui/node_modules is not installed (make ui)"
    if missing is not None and os.environ.get("CUBE_REQUIRE_UI") != "1":
        pytest.skip(missing)
    if missing is not None:
        pytest.fail(f"{missing}, and CUBE_REQUIRE_UI=1 needs it")
    return UI
