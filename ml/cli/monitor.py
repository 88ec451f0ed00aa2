"""`patchrisk monitor`: print the fleet watchlist (a thin click layer over ml.operations.monitor).

Exit codes: 0 success, 2 bad input or usage, 3 environment failure (no warehouse, no
watchlist mart, a warehouse locked by a writer).
"""

from __future__ import annotations

import sys

import click

from ml.cli.options import DUCKDB_OPTION
from ml.errors import EXIT_FAILURE, PatchriskError, fail

TIER_CHOICES = ("immediate", "enhanced", "standard", "insufficient_data")


@click.command()
@DUCKDB_OPTION
@click.option(
    "--tier",
    "tiers",
    type=click.Choice(TIER_CHOICES),
    multiple=True,
    help="Only rows of this tier (repeatable).",
)
@click.option("--platform", default=None, help="Only rows of this platform, e.g. ares.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="At most this many rows (0 = all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the watchlist as JSON.")
def monitor(duckdb_path, tiers, platform, limit, as_json) -> None:
    """Print the fleet watchlist: cohorts (device model x region x age band) on each firmware
    they ran in the last 14 days (var monitor_recent_days), tiered immediate / enhanced /
    standard / insufficient data, with a reason each.
    """
    from ml.operations.monitor import read_watchlist, render_json, render_text
    from ml.warehouse.dbt import default_duckdb_path

    try:
        watchlist = read_watchlist(
            duckdb_path or default_duckdb_path(), tuple(tiers), platform, limit or None
        )
    except PatchriskError as exc:
        fail(str(exc), exc.exit_code)
    except Exception as exc:  # never a traceback
        fail(f"internal error: {type(exc).__name__}: {exc}", EXIT_FAILURE)
    try:
        sys.stdout.write(render_json(watchlist) if as_json else render_text(watchlist))
        sys.stdout.flush()
    except OSError as exc:  # e.g. a closed pipe
        fail(f"cannot write to stdout: {exc.strerror or exc}", EXIT_FAILURE)
