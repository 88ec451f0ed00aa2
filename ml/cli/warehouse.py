"""`patchrisk build | docs | audit-labels`: the dbt warehouse (a thin click layer over
ml.warehouse)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from ml.errors import EXIT_BAD_INPUT, EXIT_FAILURE, BadInputError, PatchriskError, fail

WAREHOUSE_OPTION = click.option(
    "--warehouse",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="DuckDB file  [default: $PATCHRISK_DUCKDB_PATH or warehouse/patchrisk.duckdb]",
)


def parse_dbt_var(text: str) -> tuple[str, object]:
    """`name=value` -> (name, value), the value parsed as JSON when it is JSON (1.4, true)."""
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r} is not NAME=VALUE", param_hint="--var")
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


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


@click.command()
@RAW_DIR_OPTION
@RAW_FORMAT_OPTION
@WAREHOUSE_OPTION
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
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def build(raw_dir, fmt, warehouse, dbt_vars, select, as_json) -> None:
    """Build the warehouse with dbt: every model, data test and unit test (or --select)."""
    from ml.warehouse.dbt import BuildConfig
    from ml.warehouse.dbt import build as build_warehouse
    from ml.warehouse.raw_contract import check_raw_dir

    config = BuildConfig(
        raw_format=fmt, dbt_vars=dict(parse_dbt_var(v) for v in dbt_vars), select=select
    )
    if raw_dir is not None:
        config = dataclasses.replace(config, raw_dir=raw_dir)
    if warehouse is not None:
        config = dataclasses.replace(config, duckdb_path=warehouse)
    try:
        check_raw_dir(config.raw_dir, fmt)
    except BadInputError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    click.echo(f"building {config.duckdb_path} from {config.raw_dir} ...", err=True)
    try:
        result = build_warehouse(config)
    except PatchriskError as exc:  # e.g. another writer holds the warehouse too long
        fail(str(exc), exc.exit_code)
    problems = {n.name: n.status for n in result.nodes if n.status in ("error", "fail", "warn")}
    if as_json:
        click.echo(
            json.dumps(
                {
                    "success": result.success,
                    "warehouse": str(result.duckdb_path),
                    "elapsed_seconds": round(result.elapsed_seconds, 2),
                    "nodes": len(result.nodes),
                    "problems": problems,
                },
                indent=2,
            )
        )
    elif result.success:
        click.echo(
            f"built {result.duckdb_path}: {len(result.nodes)} nodes in "
            f"{result.elapsed_seconds:.1f}s" + (f"; warnings: {problems}" if problems else "")
        )
    if not result.success:
        if not as_json:
            click.echo(result.log[-3000:], err=True)
        fail(f"dbt build failed: {problems or 'see the log above'}", EXIT_FAILURE)


@click.command()
@WAREHOUSE_OPTION
def docs(warehouse) -> None:
    """Write dbt's docs site (dbt docs generate --static) into dbt_project/target/."""
    from ml.warehouse.dbt import PROJECT_DIR, BuildConfig, default_duckdb_path, run_dbt

    warehouse = warehouse or default_duckdb_path()
    if not warehouse.is_file():
        fail(f"no warehouse at {warehouse} (run patchrisk build first)", EXIT_FAILURE)
    target = PROJECT_DIR / "target"
    try:
        result = run_dbt("docs generate", BuildConfig(duckdb_path=warehouse), target)
    except PatchriskError as exc:
        fail(str(exc), exc.exit_code)
    if not result.success:
        click.echo(result.log[-3000:], err=True)
        fail("dbt docs generate failed (see the log above)", EXIT_FAILURE)
    click.echo(f"docs: {target / 'static_index.html'}")


@click.command("audit-labels")
@click.option(
    "--raw-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding oracle/release_truth.*  [default: $PATCHRISK_RAW_DIR or seeds]",
)
@WAREHOUSE_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def audit_labels(raw_dir, warehouse, as_json) -> None:
    """Compare the warehouse's telemetry labels with the generator's oracle flags."""
    from ml.operations.audit import label_agreement
    from ml.warehouse.dbt import default_duckdb_path, default_raw_dir, read_table
    from ml.warehouse.marts import read_oracle

    raw_dir = raw_dir or default_raw_dir()
    warehouse = warehouse or default_duckdb_path()
    oracle = read_oracle(raw_dir)
    if oracle is None:
        fail(f"{raw_dir} has no oracle/release_truth.csv or .parquet", EXIT_BAD_INPUT)
    if not warehouse.is_file():
        fail(f"no warehouse at {warehouse} (run patchrisk build first)", EXIT_FAILURE)
    result = label_agreement(read_table(warehouse, "marts.fct_release_outcomes"), oracle)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(
            f"{result.labelled:,} of {result.releases:,} releases labelled; label agrees with "
            f"the oracle on {result.agreement:.1%} (precision {result.precision:.1%}, "
            f"recall {result.recall:.1%})"
        )


@click.command()
@RAW_DIR_OPTION
@RAW_FORMAT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
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
        click.echo(result.log[-3000:], err=True)
        fail("dbt source freshness failed (see the log above)", EXIT_FAILURE)
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
