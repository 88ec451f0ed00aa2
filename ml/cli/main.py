"""`patchrisk`: the command-line interface, a thin layer over the ml package.

Exit codes shared by every command: 0 success, 2 bad input or usage, 3 environment or
runtime failure (missing warehouse, failed build ...).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date, datetime
from pathlib import Path

import click

from ml.cli.options import Group
from ml.errors import EXIT_BAD_INPUT, EXIT_FAILURE, BadInputError, PatchriskError, fail
from ml.generate import ConfigError, WorldConfig


class ISODate(click.ParamType):
    """A YYYY-MM-DD date."""

    name = "date"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            return datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            self.fail(f"{value!r} is not a date in YYYY-MM-DD form", param, ctx)


WAREHOUSE_OPTION = click.option(
    "--warehouse",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="DuckDB file  [default: $PATCHRISK_DUCKDB_PATH or warehouse/patchrisk.duckdb]",
)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="patch-stability-analytics")
def main() -> None:
    """Predict which firmware patches will regress the fleet, before they ship."""


@main.command()
@click.option("--seed", type=int, default=WorldConfig.seed, show_default=True, help="Random seed.")
@click.option(
    "--releases",
    "n_releases",
    type=int,
    default=WorldConfig.n_releases,
    show_default=True,
    help="Firmware releases across all platforms.",
)
@click.option(
    "--devices",
    "n_devices",
    type=int,
    default=WorldConfig.n_devices,
    show_default=True,
    help="Devices in the fleet.",
)
@click.option(
    "--events",
    "n_events",
    type=int,
    default=WorldConfig.n_events,
    show_default=True,
    help="Approximate number of device error events.",
)
@click.option(
    "--start-date",
    type=ISODate(),
    default=str(WorldConfig.start_date),
    show_default=True,
    help="First day of the world.",
)
@click.option(
    "--end-date",
    type=ISODate(),
    default=str(WorldConfig.end_date),
    show_default=True,
    help="Last day of the world (the data's as-of date).",
)
@click.option(
    "--drift-at",
    type=ISODate(),
    default=None,
    help="From this date a new platform launches and the causes of regressions shift "
    "(see docs/raw-telemetry.md).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
    help="File format of the raw tables.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("seeds"),
    show_default=True,
    help="Folder to write into.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def generate(
    seed, n_releases, n_devices, n_events, start_date, end_date, drift_at, fmt, out_dir, as_json
) -> None:
    """Simulate fleet telemetry and write the raw tables plus the oracle file.

    Deterministic: the same options give byte-identical files. An option out of range
    exits 2; a failure or Ctrl-C leaves OUT as it was (the staging folder is removed).
    """
    from ml.generate.world import generate_world

    cfg = WorldConfig(
        seed=seed,
        n_releases=n_releases,
        n_devices=n_devices,
        n_events=n_events,
        start_date=start_date,
        end_date=end_date,
        drift_at=drift_at,
    )
    try:
        summary = generate_world(cfg, out_dir, fmt, progress=sys.stderr.isatty())
    except ConfigError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    except OSError as exc:
        fail(f"cannot write to {out_dir}: {exc.strerror}", EXIT_FAILURE)
    except MemoryError:
        fail("out of memory: generate a smaller world (--events, --devices)", EXIT_FAILURE)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
    else:
        rows = ", ".join(f"{k}={v:,}" for k, v in summary.rows.items())
        click.echo(
            f"wrote {fmt} world to {out_dir}: {rows}; "
            f"true regression rate {summary.regression_base_rate:.1%}"
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


@main.command()
@click.option(
    "--raw-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder with the raw tables  [default: $PATCHRISK_RAW_DIR or seeds]",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
    help="File format of the raw tables.",
)
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


@main.command()
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


@main.command("audit-labels")
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


# ML layer: train / score / models (ml/cli/models.py)
from ml.cli.models import COMMANDS as _ML_COMMANDS  # noqa: E402

for _command in _ML_COMMANDS:
    main.add_command(_command)

# CI risk gate (ml/cli/gate.py)
from ml.cli.gate import gate as _gate  # noqa: E402

main.add_command(_gate)

# Drift, retraining and the scheduled flow (ml/cli/lifecycle.py)
from ml.cli.lifecycle import COMMANDS as _LIFECYCLE_COMMANDS  # noqa: E402

for _command in _LIFECYCLE_COMMANDS:
    main.add_command(_command)

# Fleet monitoring watchlist (ml/cli/monitor.py)
from ml.cli.monitor import monitor as _monitor  # noqa: E402

main.add_command(_monitor)

# Canary analysis (ml/cli/canary.py)
from ml.cli.canary import canary as _canary  # noqa: E402

main.add_command(_canary)

# Parquet export of the public marts for BI tools (ml/cli/export.py)
from ml.cli.export import export as _export  # noqa: E402

main.add_command(_export)

# The HTML report (ml/cli/report.py)
from ml.cli.report import report as _report  # noqa: E402

main.add_command(_report)
