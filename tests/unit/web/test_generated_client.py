"""The committed TypeScript client (ui/src/client) is what @hey-api/openapi-ts generates from
the API's OpenAPI document today: regenerated into a scratch folder, it must not differ."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from cubestudio.api.openapi import openapi_document
from tests.unit.web.ui_tools import require_node


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_committed_client_matches_the_api(tmp_path: Path) -> None:
    ui = require_node()
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n")
    out = tmp_path / "client"
    env = {**os.environ, "CUBE_OPENAPI_INPUT": str(spec), "CUBE_OPENAPI_OUTPUT": str(out)}
    subprocess.run(
        ["npx", "--no-install", "openapi-ts"],
        cwd=ui,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    fresh, committed = _files(out), _files(ui / "src" / "client")
    stale = sorted(
        name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name)
    )
    assert not stale, (
        f"ui/src/client is out of date with the API ({', '.join(stale)}): "
        "run `cd ui && npm run generate-client` and commit the result"
    )
