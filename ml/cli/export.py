"""`patchrisk export`: write every public mart as Parquet for BI tools (over ml.warehouse.export).

Exit codes: 0 success, 2 bad input or usage (an OUT that is not an export: a non-empty
folder, a file, a foreign link), 3 environment failure (no warehouse, a warehouse locked by
a writer, an unwritable folder).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ml.cli.options import JSON_OPTION, command, warehouse_option


@command()
@warehouse_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("warehouse/exports"),
    show_default=True,
    help="Where <mart>.parquet appear: a link to the newest export (an empty or new folder).",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds to wait for a writer (a dbt build) to release the warehouse.",
)
@JSON_OPTION
def export(warehouse, out_dir, lock_timeout, as_json) -> None:
    """Export every public mart (schema marts) to OUT/<mart>.parquet.

    Reads the warehouse read-only in one snapshot. OUT becomes a link to a new hidden
    folder beside it, replaced atomically; the previous export folder is then removed.
    A non-empty folder, a file or a link patchrisk did not make is never replaced.
    """
    from ml.warehouse.export import export_marts

    exported = export_marts(warehouse, out_dir, lock_timeout)
    if as_json:
        click.echo(json.dumps([m.as_dict() for m in exported], indent=2))
    else:
        rows = sum(m.rows for m in exported)
        click.echo(f"exported {len(exported)} marts ({rows:,} rows) to {out_dir}")
