# The two commands a fresh clone needs: `make run` and `make test` (see README).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)
export DBT_PROFILES_DIR := $(CURDIR)
export PATCHRISK_DUCKDB_PATH ?= $(CURDIR)/warehouse/patchrisk.duckdb
DBT := $(BIN)/dbt --no-use-colors
DBT_ARGS := --project-dir dbt_project

.PHONY: setup run retrain build test lint format bench clean

setup: $(STAMP)

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev,bi]"
	rm -f $(VENV)/.installed-* && touch $@

## run: set up, then build -> train (only if the champion does not fit) -> score ->
## rebuild what reads the scores (QA queue ...) -> docs
run: setup build
	$(BIN)/patchrisk train --if-needed
	$(BIN)/patchrisk score
	$(BIN)/patchrisk build --select source:ml+
	$(BIN)/patchrisk export --out warehouse/exports
	$(BIN)/patchrisk audit-labels
	$(DBT) docs generate $(DBT_ARGS) --static
	@echo "warehouse: $(PATCHRISK_DUCKDB_PATH)"
	@echo "docs:      $(CURDIR)/dbt_project/target/static_index.html"

build: setup
	$(BIN)/patchrisk build

## retrain: the scheduled flow: build -> drift -> retrain if drifted -> score -> marts
retrain: setup
	$(BIN)/patchrisk pipeline

## test: set up, lint, then every test (pytest runs dbt build on generated worlds)
test: setup lint
	$(BIN)/pytest

lint: setup
	mkdir -p $(dir $(PATCHRISK_DUCKDB_PATH))
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/macros dbt_project/tests

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix dbt_project/models dbt_project/macros dbt_project/tests

## bench: generator, dbt build and gate wall time and peak memory (default world, 10M events)
bench: setup
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)
	$(BIN)/python scripts/bench_gate.py --duckdb bench_results/default.duckdb

clean:
	rm -rf $(VENV) warehouse bench_results dbt_project/target dbt_project/logs
