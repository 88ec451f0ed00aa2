# The two commands a fresh clone needs: `make run` and `make test` (see README).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)
export DBT_PROFILES_DIR := $(CURDIR)
export PATCHRISK_DUCKDB_PATH ?= $(CURDIR)/warehouse/patchrisk.duckdb
REPORT := reports/patchrisk_report.html
SCREENSHOTS := reports/screenshots
SCREENSHOT_HEIGHT := 4000  # taller than any section: each PNG is then cropped to its content

.PHONY: setup run screenshot retrain build test test-spark lint format bench clean

setup: $(STAMP)

# pip prints one line per package it collects (a few minutes on a fresh machine)
PIP_INSTALL = set -o pipefail; $(BIN)/pip install --progress-bar off -c constraints.txt -e
PIP_SAYS = grep --line-buffered -E '^(Collecting|Successfully installed)' | cut -c1-100

$(STAMP):
	@echo "setup: creating $(VENV) with $$($(PYTHON) --version)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3
	@echo "setup: installing this package with extras dev, bi and the \
	$$(grep -c '==' constraints.txt) versions pinned in constraints.txt"
	$(PIP_INSTALL) ".[dev,bi]" | $(PIP_SAYS)
	rm -f $(VENV)/.installed-* && touch $@

## run: set up, then build -> raw freshness (each table's newest day against the as-of date)
## -> train (only if the champion does not fit) -> score -> drift check (exit 1 = drift, not a
## failure) -> rebuild what reads the scores (QA queue, drift runs ...) -> docs -> HTML report
run: setup build
	$(BIN)/patchrisk freshness
	$(BIN)/patchrisk train --if-needed
	$(BIN)/patchrisk score
	$(BIN)/patchrisk drift || [ $$? -eq 1 ]
	$(BIN)/patchrisk build --select source:ml+
	$(BIN)/patchrisk export --out warehouse/exports
	$(BIN)/patchrisk audit-labels
	$(BIN)/patchrisk docs
	$(BIN)/patchrisk report --out $(REPORT)
	@echo "warehouse: $(PATCHRISK_DUCKDB_PATH)"
	@echo "docs:      $(CURDIR)/dbt_project/target/patchrisk/static_index.html"
	@echo "report:    $(CURDIR)/$(REPORT)"

## screenshot: render the report (make run writes it) with headless Chromium into one PNG
## per section (the section alone, cropped to its content), installing Debian's chromium
## when missing; fails when a section, an image or a PNG is missing, blank or cut off
screenshot: setup
	@[ -f $(REPORT) ] || { echo "no $(REPORT): run make run first" >&2; exit 1; }
	@command -v chromium > /dev/null || { \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }
	rm -rf $(SCREENSHOTS) && mkdir -p $(SCREENSHOTS)
	profile=$$(mktemp -d) && trap 'rm -rf "$$profile"' EXIT && \
	for id in $$($(BIN)/python -c 'from ml.report.html import SECTIONS; print(*dict(SECTIONS))'); do \
	  timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	    --no-first-run --no-default-browser-check --user-data-dir="$$profile" \
	    --window-size=1400,$(SCREENSHOT_HEIGHT) --screenshot=$(SCREENSHOTS)/$$id.png \
	    "file://$(CURDIR)/$(REPORT)#$$id" 2> /dev/null || exit 1; \
	done
	$(BIN)/python scripts/check_report.py --crop $(REPORT) $(SCREENSHOTS)

build: setup
	$(BIN)/patchrisk build

## retrain: the scheduled flow: build -> drift -> retrain if drifted -> score -> marts
retrain: setup
	$(BIN)/patchrisk pipeline

## test: set up, lint, then every test (pytest runs dbt build on generated worlds)
test: setup lint
	$(BIN)/pytest

## test-spark: install the `spark` extra (dbt-spark, pyspark; needs Java 17), build a small
## generated world on Spark and on DuckDB and compare every mart (tests/spark)
SPARK_STAMP := $(VENV)/.installed-spark-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)

$(SPARK_STAMP): $(STAMP)
	$(PIP_INSTALL) ".[dev,bi,spark]" | $(PIP_SAYS)
	rm -f $(VENV)/.installed-spark-* && touch $@

test-spark: $(SPARK_STAMP)
	@command -v java > /dev/null || { echo "test-spark needs Java 17 (java on PATH)" >&2; exit 1; }
	spark_dir=$$(mktemp -d) && trap 'rm -rf "$$spark_dir"' EXIT && \
	PATCHRISK_SPARK_DIR=$$spark_dir $(BIN)/pytest -m spark tests/spark

lint: setup
	mkdir -p $(dir $(PATCHRISK_DUCKDB_PATH))
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/macros dbt_project/tests
	$(BIN)/dbt parse --quiet --project-dir dbt_project
	$(BIN)/dbt-bouncer run --config-file dbt_project/dbt-bouncer.yml

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix dbt_project/models dbt_project/macros dbt_project/tests

## bench: generator, dbt build, train, score and gate wall time and peak memory, the floor
## query and a one-day increment (default world, 10M events; BENCH_ARGS=--with-100m adds 100M)
bench: setup
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)
	$(BIN)/python scripts/bench_gate.py --warehouse bench_results/default.duckdb

clean:
	rm -rf $(VENV) bench_results reports dbt_project/target dbt_project/logs
	find warehouse -mindepth 1 ! -name .gitkeep -delete
