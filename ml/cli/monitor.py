"""`patchrisk monitor`: print the fleet watchlist (a thin click layer over ml.operations.monitor).

Exit codes: 0 success, 2 bad input or usage, 3 environment failure (no warehouse, no
watchlist mart, a warehouse locked by a writer).
"""

from __future__ import annotations

import sys

import click

from ml.cli.options import JSON_OPTION, command, warehouse_option
from ml.errors import EXIT_FAILURE, fail

TIER_CHOICES = ("immediate", "enhanced", "standard", "insufficient_data")


@command()
@warehouse_option
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
@JSON_OPTION
def monitor(warehouse, tiers, platform, limit, as_json) -> None:
    """Print the fleet watchlist: cohorts (device model x region x age band) on each firmware
    they ran in the last 14 days (var monitor_recent_days), tiered immediate / enhanced /
    standard / insufficient data, with a reason each.
    """
    from ml.operations.monitor import read_watchlist, render_json, render_text

    watchlist = read_watchlist(warehouse, tuple(tiers), platform, limit or None)
    try:
        sys.stdout.write(render_json(watchlist) if as_json else render_text(watchlist))
        sys.stdout.flush()
    except OSError as exc:  # e.g. a closed pipe
        fail(f"cannot write to stdout: {exc.strerror or exc}", EXIT_FAILURE)
