# wbs task runner: the same targets for people and CI. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export WBS_ENV ?= development
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck unit pg coverage soak bench clean e2e e2e-deps

# Branch coverage of wbs/ over both database runs, combined; `make test` fails under COV_MIN,
# the 95 the issue asks for (100 is the goal). Child processes (the CLI, `wbs serve`, the e2e
# and reliability servers) are measured too (pyproject: coverage's subprocess patch).
# Measured on 2026-11-29 from a clean clone: 97% combined (13,975 statements, 3,098 branches;
# 376 statements and 158 partial branches missed).
COV_MIN ?= 95
COV_DIR := var/coverage
COV_ARGS := --cov=wbs --cov-branch --cov-report=

# axe-core for the browser tests: the npm registry's tarball at the pinned version, checked
# against its SHA-256 and unpacked into var/cache (git-ignored). Chromium comes from Debian.
AXE_LOCK := tests/e2e/axe-core.lock
AXE_VERSION := $(word 1,$(file <$(AXE_LOCK)))
AXE_SHA256 := $(word 2,$(file <$(AXE_LOCK)))
AXE_DIR := var/cache/axe-core-$(AXE_VERSION)
AXE_TGZ := $(AXE_DIR)/axe-core-$(AXE_VERSION).tgz
AXE_JS := $(AXE_DIR)/axe.min.js

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) ## set up everything and serve the portal with demo data on http://127.0.0.1:8000
	$(BIN)/wbs init
	$(BIN)/wbs demo
	$(BIN)/wbs serve --host 127.0.0.1 --port 8000 --jobs-every 300

lint: $(STAMP) ## ruff (with bandit rules) over code and tests
	$(BIN)/ruff check wbs tests

typecheck: $(STAMP) ## mypy --strict on wbs/
	$(BIN)/mypy --strict wbs

unit: $(STAMP) e2e-deps ## the whole suite on SQLite, browser tests included (with coverage)
	mkdir -p $(COV_DIR) && rm -f $(COV_DIR)/.coverage.sqlite
	COVERAGE_FILE=$(COV_DIR)/.coverage.sqlite $(BIN)/python -m pytest -q $(COV_ARGS)

e2e: $(STAMP) e2e-deps ## only the browser tests (Playwright on Debian's Chromium, axe-core)
	$(BIN)/python -m pytest -q -m e2e

e2e-deps: ## fetch the pinned axe-core (npm registry, checksum checked); CI needs npm for it
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(AXE_JS); \
	elif [ "$$CI" = true ]; then echo "npm is missing: CI cannot fetch axe-core"; exit 1; \
	else echo "npm is missing: the browser tests will skip their axe-core checks"; fi

$(AXE_JS): $(AXE_LOCK)
	rm -rf $(AXE_DIR) && mkdir -p $(AXE_DIR)
	npm pack --silent --pack-destination $(AXE_DIR) axe-core@$(AXE_VERSION) >/dev/null
	echo "$(AXE_SHA256)  $(AXE_TGZ)" | sha256sum --check --quiet \
	  || { rm -rf $(AXE_DIR); echo "axe-core checksum mismatch"; exit 1; }
	tar -xzf $(AXE_TGZ) -C $(AXE_DIR) --strip-components=1 package/axe.min.js
	touch $@

pg: $(STAMP) ## the database-touching tests again on PostgreSQL (with coverage)
	mkdir -p $(COV_DIR) && rm -f $(COV_DIR)/.coverage.pg
	COVERAGE_FILE=$(COV_DIR)/.coverage.pg WBS_TEST_DATABASE_URL=$${WBS_TEST_DATABASE_URL:-$(PG_URL)} \
	  $(BIN)/python -m pytest -q -m db $(COV_ARGS)

coverage: $(STAMP) ## combine the SQLite and PostgreSQL coverage; fail under COV_MIN percent
	cd $(COV_DIR) && ../../$(BIN)/coverage combine --keep --data-file=.coverage \
	  .coverage.sqlite $$(test -f .coverage.pg && echo .coverage.pg)
	$(BIN)/coverage report --data-file=$(COV_DIR)/.coverage --skip-covered --sort=cover \
	  --fail-under=$(COV_MIN)
	$(BIN)/coverage html --data-file=$(COV_DIR)/.coverage -d $(COV_DIR)/html --quiet

test: lint typecheck unit pg coverage ## lint, types, the whole suite (SQLite, then PostgreSQL), coverage

soak: $(STAMP) ## long fuzzing (Hypothesis profile soak) and load/kill/outage runs, both databases
	HYPOTHESIS_PROFILE=soak WBS_SOAK=1 $(BIN)/python -m pytest -q tests/fuzz \
	  tests/unit/audit/test_tamper_fuzz.py tests/reliability
	HYPOTHESIS_PROFILE=soak WBS_SOAK=1 WBS_TEST_DATABASE_URL=$${WBS_TEST_DATABASE_URL:-$(PG_URL)} \
	  $(BIN)/python -m pytest -q -m db tests/fuzz tests/unit/audit/test_tamper_fuzz.py \
	  tests/reliability

bench: $(STAMP) ## print performance figures (WBS_BENCH_DATABASE_URL=postgresql+psycopg://... adds PostgreSQL, WBS_BENCH_MILLION=1 its 1M cases)
	$(BIN)/python -m tests.bench

clean: ## remove the virtualenv and caches (keeps keys/ and var/)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
