#!/usr/bin/env bash
# A throwaway server for working on the web UI: ./scripts/ui-dev.sh PORT NAME
# builds ui/ into /tmp/ui-NAME, makes CUBE_HOME=/tmp/cube-NAME with the example templates and
# pipelines, and serves both on 127.0.0.1:PORT (admin / admin-pass) until Ctrl-C.
# Rebuild the UI alone with: (cd ui && npx vite build --outDir /tmp/ui-NAME --emptyOutDir)
set -euo pipefail
port=${1:?port}; name=${2:?name}
root=$(cd "$(dirname "$0")/.." && pwd)
export CUBE_HOME=/tmp/cube-$name CUBE_ADMIN_PASSWORD=admin-pass CUBE_UI_DIR=/tmp/ui-$name
(cd "$root/ui" && npx vite build --outDir "$CUBE_UI_DIR" --emptyOutDir --logLevel warn)
cube=$root/.venv/bin/cube
if [ ! -e "$CUBE_HOME/cube.db" ]; then
  "$cube" init >/dev/null
  for t in "$root"/examples/templates/*.yaml; do "$cube" template register "$t" >/dev/null; done
  for p in "$root"/examples/*.yaml; do "$cube" pipeline save "$p" >/dev/null; done
fi
exec "$cube" server --host 127.0.0.1 --port "$port"
