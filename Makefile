# wbs task runner: the same targets for people and CI. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export WBS_ENV ?= development
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck unit pg bench clean

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

unit: $(STAMP) ## the whole suite on SQLite
	$(BIN)/python -m pytest -q

pg: $(STAMP) ## the database-touching tests again on PostgreSQL
	WBS_TEST_DATABASE_URL=$${WBS_TEST_DATABASE_URL:-$(PG_URL)} $(BIN)/python -m pytest -q -m db

test: lint typecheck unit pg ## lint, types and the whole suite (SQLite, then PostgreSQL)

bench: $(STAMP) ## print performance figures
	$(BIN)/python -m tests.bench

clean: ## remove the virtualenv and caches (keeps keys/ and var/)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
