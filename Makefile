# Cube Studio — the commands people and CI use. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXTRAS_STAMP := $(VENV)/.extras-stamp
CUBE_HOME ?= $(HOME)/.cube
export CUBE_HOME

.DEFAULT_GOAL := help
.PHONY: help install extras lock services ui ui-check browser mpi run test lint typecheck unit integration bench screenshots clean
UI_STAMP := ui/node_modules/.installed-stamp

# A `$$` in a target's text is make's escape for `$`: help prints it as the shell reads it.
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{gsub(/\$$\$$/, "$$", $$2); printf "  make %-12s %s\n", $$1, $$2}'

# constraints.txt pins every package of the dev install, so a fresh clone installs what CI
# tested, whatever was released since; `make lock` resolves afresh and rewrites it.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the package with the dev extra, pinned by constraints.txt

# torch (its CPU build) and ray, for the distributed templates' tests and examples/ddp-train.yaml:
# about 1 GB more, so apart from `install` (`make run` does without them).
$(EXTRAS_STAMP): $(STAMP) pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,torch,ray]'
	touch $(EXTRAS_STAMP)

extras: $(EXTRAS_STAMP) ## add the torch (CPU) and ray extras to .venv, pinned by constraints.txt

lock: ## refresh constraints.txt: resolve the dev, torch and ray install afresh in a scratch venv, pin what it got
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[dev,torch,ray]'
	{ echo "# Pinned versions for the dev and test install (make install, CI). Refresh on purpose: make lock"; \
	  .lock-venv/bin/pip freeze --all --exclude-editable | grep -v -iE '^(setuptools|wheel)=='; } > constraints.txt
	rm -rf .lock-venv

services: ## start PostgreSQL and MariaDB if they are down (the test suite uses both)
	@bash scripts/ensure-services.sh

# The web UI (ui/, Node.js 20 and npm): installed from the committed lockfile, built into the
# Python package (src/cubestudio/web/dist), which `cube server` serves at /.
$(UI_STAMP): ui/package.json ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund --loglevel=error
	touch $(UI_STAMP)

ui: ## build the web UI into the package (needs Node.js 20 and npm; skipped with a note without them)
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(UI_STAMP) && cd ui && npm run --silent build -- --logLevel warn; \
	else echo "note: npm not found, the web UI is not built (cube server shows how to build it)"; fi

ui-check: $(UI_STAMP) ## the web UI's lint, type check and component tests (Vitest)
	cd ui && npx eslint . && npx tsc -p tsconfig.json && npx vitest run --reporter=dot

# Debian's Chromium drives the browser tests (Playwright never downloads a browser here).
browser: ## install Debian's chromium for the browser tests when it is missing
	@command -v chromium >/dev/null || apt-get install -y chromium || (apt-get update && apt-get install -y chromium)

# Debian's Open MPI runs the mpi template's ranks (mpirun on PATH).
mpi: ## install Debian's openmpi-bin (mpirun) for the MPI tests when it is missing
	@command -v mpirun >/dev/null || apt-get install -y openmpi-bin || (apt-get update && apt-get install -y openmpi-bin)

run: install ui ## initialise $$CUBE_HOME, register the example templates and pipelines, start the server on :8080
	$(BIN)/cube init
	@for template in examples/templates/*.yaml; do $(BIN)/cube template register $$template; done
	@for pipeline in examples/*.yaml; do $(BIN)/cube pipeline save $$pipeline; done
	$(BIN)/cube server --host 127.0.0.1 --port 8080

lint: install ## ruff lint and format check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install ## mypy --strict on spec, store, engine, schedule and logs
	$(BIN)/mypy

unit: install ## fast unit tests (SQLite only)
	$(BIN)/pytest -q tests/unit

test: install extras services browser mpi lint typecheck ui ui-check ## the whole suite: lint, types, UI checks, unit, integration (SQLite, PostgreSQL, MariaDB, distributed with torch, ray and mpirun) and browser tests
	CUBE_REQUIRE_UI=1 $(BIN)/pytest -q -n 2 --dist loadfile

screenshots: install browser ui ## a PNG of each page and step of the browser tests, in build/screenshots/
	CUBE_REQUIRE_UI=1 CUBE_SCREENSHOTS=build/screenshots $(BIN)/pytest -q tests/e2e

bench: install browser ui ## print the benchmarks' figures: engine overhead, scheduler backfill, logs, engine service, API load, admission (the core and through the store), monitoring, the UI editor
	$(BIN)/python bench/engine_overhead.py
	$(BIN)/python bench/scheduler_backfill.py
	$(BIN)/python bench/logs.py
	$(BIN)/python bench/engine_service.py
	$(BIN)/python bench/api_load.py
	$(BIN)/python bench/admission.py
	$(BIN)/python bench/admission_gate.py
	$(BIN)/python bench/monitoring.py
	$(BIN)/python bench/ui_editor.py

clean: ## remove the virtual environment, caches, node_modules and the UI build
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache ui/node_modules src/cubestudio/web/dist
