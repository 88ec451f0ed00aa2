"""Click options shared by the `patchrisk` commands (import-light: the gate's cold start)."""

from __future__ import annotations

from pathlib import Path

import click

DUCKDB_OPTION = click.option(
    "--duckdb",
    "duckdb_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Warehouse file [default: $PATCHRISK_DUCKDB_PATH or warehouse/patchrisk.duckdb].",
)
