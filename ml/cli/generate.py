"""`patchrisk generate`: the simulated fleet (a thin click layer over ml.generate)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

import click

from ml.cli.options import JSON_OPTION, command
from ml.errors import EXIT_BAD_INPUT, EXIT_FAILURE, fail
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


@command()
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
@JSON_OPTION
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
