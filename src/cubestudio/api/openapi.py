"""Print the API's OpenAPI document (``python -m cubestudio.api.openapi [FILE]``): what the
web UI's TypeScript client is generated from (``ui/``: ``npm run generate-client``), without
a server, a database or a $CUBE_HOME of the caller's."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def openapi_document() -> dict[str, Any]:
    from cubestudio.api.app import create_app
    from cubestudio.settings import Settings

    with tempfile.TemporaryDirectory(prefix="cube-openapi-") as home:
        settings = Settings(home=Path(home), secret_key=None)
        app = create_app(settings)
        try:
            # Relative to wherever the UI is served from (else the generator names a host).
            return {**app.openapi(), "servers": [{"url": "/"}]}
        finally:
            app.state.db.dispose()


def main(argv: list[str]) -> None:
    text = json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
    if argv:
        Path(argv[0]).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
