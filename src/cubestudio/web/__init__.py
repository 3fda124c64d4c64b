"""The web UI's built files (``ui/`` → ``npm run build`` → ``web/dist``), served by
`cube server` at ``/`` beside the API.

Every path that is not the API's, /healthz or /metrics and not a file of the build is a page
of the single-page app and gets its ``index.html``: the UI's router takes it from there.
Hashed assets (``/assets/…``) are cached for good; ``index.html`` never, so a new build is
seen on the next load. Without a build, ``/`` says how to make one.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

DIST = Path(__file__).parent / "dist"
RESERVED = ("api/", "healthz", "metrics")
NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Cube Studio</title>
<body style="font-family:sans-serif;margin:3em">
<h1>Cube Studio</h1>
<p>The web UI is not built. Run <code>make ui</code> (Node.js 20 and npm), then reload.</p>
<p>The API is at <a href="/api/v1/docs">/api/v1/docs</a>.</p></body>"""


def mount_ui(app: FastAPI, dist: Path | None = None) -> None:
    """Serve the build in ``dist`` (default: the package's ``web/dist``) at ``/``."""
    root = (dist or DIST).resolve()

    async def page(request: Request, path: str = "") -> Response:
        if path.startswith(RESERVED):
            raise HTTPException(status_code=404)
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        if path:
            wanted = (root / path).resolve()
            # No path out of the build (`..`, absolute links): only files below root.
            if wanted.is_relative_to(root) and wanted.is_file():
                immutable = wanted.parent.name == "assets"
                cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
                return FileResponse(wanted, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/{path:path}", page, methods=["GET"], include_in_schema=False)
