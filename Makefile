# Cube Studio — the commands people and CI use. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CUBE_HOME ?= $(HOME)/.cube
export CUBE_HOME

.DEFAULT_GOAL := help
.PHONY: help install lock services run test lint typecheck unit integration bench clean

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

lock: ## refresh constraints.txt: resolve the dev install afresh in a scratch venv, pin what it got
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	{ echo "# Pinned versions for the dev and test install (make install, CI). Refresh on purpose: make lock"; \
	  .lock-venv/bin/pip freeze --all --exclude-editable | grep -v -iE '^(setuptools|wheel)=='; } > constraints.txt
	rm -rf .lock-venv

services: ## start PostgreSQL and MariaDB if they are down (the test suite uses both)
	@bash scripts/ensure-services.sh

run: install ## initialise $$CUBE_HOME, register the example templates and pipelines, start the server on :8080
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

test: install services lint typecheck ## the whole suite: lint, types, unit and integration on SQLite, PostgreSQL and MariaDB
	$(BIN)/pytest -q -n 2 --dist loadfile

bench: install ## print the benchmarks' figures: engine overhead, scheduler backfill, logs, engine service
	$(BIN)/python bench/engine_overhead.py
	$(BIN)/python bench/scheduler_backfill.py
	$(BIN)/python bench/logs.py
	$(BIN)/python bench/engine_service.py

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
