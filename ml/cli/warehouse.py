"""`patchrisk build | docs | audit-labels`: the dbt warehouse (a thin click layer over
ml.warehouse)."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ml.cli.options import JSON_OPTION, command, warehouse_option
from ml.errors import EXIT_BAD_INPUT, EXIT_FAILURE, BadInputError, fail

if TYPE_CHECKING:
    from ml.warehouse.dbt import BuildResult, NodeProgress

PROBLEM_STATUSES = ("error", "fail", "warn")
LOG_FILE = "dbt_project/logs/dbt.log"


def echo_node(node: NodeProgress) -> None:
    """One progress line on stderr: `[ 12/187] pass  not_null_dim_devices_device_id  0.04s`."""
    width = len(str(node.total))
    seconds = f"{node.seconds:6.2f}s" if node.seconds is not None else ""
    name = node.name if len(node.name) <= 72 else node.name[:71] + "…"
    line = f"[{node.index:>{width}}/{node.total}] {node.status:<5} {name:<72} {seconds}"
    click.echo(line.rstrip(), err=True)


def echo_failure(result: BuildResult) -> None:
    """What went wrong, on stderr: each failed node's message, else the end of dbt's log."""
    failed = [n for n in result.nodes if n.status in ("error", "fail") and n.message]
    for node in failed:
        click.echo(f"{node.name}: {node.message}", err=True)
    if not failed:
        click.echo("\n".join(result.log.splitlines()[-30:]), err=True)


def parse_dbt_var(text: str) -> tuple[str, object]:
    """`name=value` -> (name, value), the value parsed as JSON when it is JSON (1.4, true)."""
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r} is not NAME=VALUE", param_hint="--var")
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


def build_summary(result: BuildResult) -> dict:
    """The `build --json` document: the outcome, node counts by status, failing tests."""
    return {
        "success": result.success,
        "warehouse": str(result.duckdb_path),
        "elapsed_seconds": round(result.elapsed_seconds, 2),
        "nodes": len(result.nodes),
        "summary": result.summary(),
        "statuses": dict(Counter(n.status for n in result.nodes)),
        "failing_tests": result.tests_with_status("fail", "error"),
        "problems": {n.name: n.status for n in result.nodes if n.status in PROBLEM_STATUSES},
    }


RAW_DIR_OPTION = click.option(
    "--raw-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder with the raw tables  [default: $PATCHRISK_RAW_DIR or seeds]",
)
RAW_FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
    help="File format of the raw tables.",
)


@command()
@RAW_DIR_OPTION
@RAW_FORMAT_OPTION
@warehouse_option
@click.option(
    "--var",
    "dbt_vars",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a dbt var (repeatable), e.g. --var regression_rate_ratio=1.4",
)
@click.option(
    "--select",
    default=None,
    metavar="SELECTOR",
    help="Build only these dbt nodes, e.g. 'source:ml+' (what reads the ML scores).",
)
@JSON_OPTION
@click.option("--quiet", "-q", is_flag=True, help="No progress line per dbt node.")
def build(raw_dir, fmt, warehouse, dbt_vars, select, as_json, quiet) -> None:
    """Build the warehouse with dbt: every model, data test and unit test (or --select).

    Prints one progress line per dbt node on stderr and a summary; dbt's artifacts stay in
    dbt_project/target/patchrisk/ and its log in dbt_project/logs/dbt.log.
    """
    from ml.warehouse.dbt import BuildConfig
    from ml.warehouse.dbt import build as build_warehouse
    from ml.warehouse.raw_contract import check_raw_dir

    config = BuildConfig(
        raw_format=fmt,
        duckdb_path=warehouse,
        dbt_vars=dict(parse_dbt_var(v) for v in dbt_vars),
        select=select,
    )
    if raw_dir is not None:
        config = dataclasses.replace(config, raw_dir=raw_dir)
    try:
        check_raw_dir(config.raw_dir, fmt)
    except BadInputError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    click.echo(f"building {config.duckdb_path} from {config.raw_dir} ...", err=True)
    result = build_warehouse(config, progress=None if quiet else echo_node)
    if as_json:
        click.echo(json.dumps(build_summary(result), indent=2))
    else:
        verb = "built" if result.success else "failed to build"
        click.echo(f"{verb} {result.duckdb_path} in {result.elapsed_seconds:.1f}s")
        click.echo(f"  {result.summary() or 'no node ran'}")
        for node in result.nodes:
            if node.status in PROBLEM_STATUSES:
                click.echo(f"  {node.status:<5} {node.name}", err=not result.success)
    if not result.success:
        if not as_json:
            echo_failure(result)
        fail(f"dbt build failed (dbt's log: {LOG_FILE})", EXIT_FAILURE)


@command()
@warehouse_option
@JSON_OPTION
def docs(warehouse, as_json) -> None:
    """Write dbt's docs site (dbt docs generate --static) into dbt_project/target/patchrisk/."""
    from ml.warehouse.dbt import TARGET_DIR, BuildConfig, run_dbt
    from ml.warehouse.readers import require_warehouse

    require_warehouse(warehouse)
    result = run_dbt("docs generate", BuildConfig(duckdb_path=warehouse))
    if not result.success:
        echo_failure(result)
        fail(f"dbt docs generate failed (dbt's log: {LOG_FILE})", EXIT_FAILURE)
    page = TARGET_DIR / "static_index.html"
    click.echo(json.dumps({"docs": str(page)}) if as_json else f"docs: {page}")


@command("audit-labels")
@click.option(
    "--raw-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding oracle/release_truth.*  [default: $PATCHRISK_RAW_DIR or seeds]",
)
@warehouse_option
@JSON_OPTION
def audit_labels(raw_dir, warehouse, as_json) -> None:
    """Compare the warehouse's telemetry labels with the generator's oracle flags."""
    from ml.operations.audit import label_agreement
    from ml.warehouse.dbt import default_raw_dir, read_table
    from ml.warehouse.marts import read_oracle
    from ml.warehouse.readers import require_warehouse

    raw_dir = raw_dir or default_raw_dir()
    oracle = read_oracle(raw_dir)
    if oracle is None:
        fail(f"{raw_dir} has no oracle/release_truth.csv or .parquet", EXIT_BAD_INPUT)
    require_warehouse(warehouse)
    result = label_agreement(read_table(warehouse, "marts.fct_release_outcomes"), oracle)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(
            f"{result.labelled:,} of {result.releases:,} releases labelled; the label agrees "
            f"with the oracle on {result.agreement:.1%}\n"
            f"precision {result.precision:.1%}: labelled regressions that are true; "
            f"recall {result.recall:.1%}: true regressions labelled"
        )


@command()
@RAW_DIR_OPTION
@RAW_FORMAT_OPTION
@JSON_OPTION
def freshness(raw_dir, fmt, as_json) -> None:
    """Check that each raw fleet table reaches the data's as-of date (dbt source freshness).

    The as-of date is the newest day any fleet table reaches; a table whose newest day lags
    it by more than its threshold warns or errors (thresholds: _fleet__sources.yml). Exit 3
    when a table errors; warnings are printed and exit 0.
    """
    from ml.warehouse.dbt import BuildConfig, source_freshness
    from ml.warehouse.raw_contract import check_raw_dir

    config = BuildConfig(raw_format=fmt)
    if raw_dir is not None:
        config = dataclasses.replace(config, raw_dir=raw_dir)
    try:
        check_raw_dir(config.raw_dir, fmt)
    except BadInputError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    result = source_freshness(config)
    if not result.nodes:
        echo_failure(result)
        fail(f"dbt source freshness failed (dbt's log: {LOG_FILE})", EXIT_FAILURE)
    if as_json:
        sources = {n.name: {"status": n.status, "days_behind": n.days_behind} for n in result.nodes}
        click.echo(json.dumps({"success": result.success, "sources": sources}, indent=2))
    else:
        for node in sorted(result.nodes, key=lambda n: n.name):
            days = node.days_behind
            click.echo(
                f"{node.status:<5}  {node.name:<28}  {days:g} day{'' if days == 1 else 's'} behind"
            )
    stale = sorted(n.name for n in result.nodes if n.status == "error")
    if stale:
        fail(f"stale raw tables: {', '.join(stale)}", EXIT_FAILURE)


COMMANDS = (build, docs, audit_labels, freshness)
