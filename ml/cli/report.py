"""`patchrisk report`: write the self-contained HTML report (a thin layer over
ml.report.html; registered on the main group in ml/cli/main.py).

Exit codes: 0 written, 2 bad input (e.g. too few labelled releases to split), 3 environment
failure (no warehouse, no champion, a missing mart, an unwritable output).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ml.cli.models import _registry
from ml.cli.options import JSON_OPTION, REGISTRY_OPTION, command, warehouse_option


@command()
@warehouse_option
@REGISTRY_OPTION
@click.option(
    "--raw-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Raw folder holding oracle/release_truth.* for the oracle's curves "
    "[default: $PATCHRISK_RAW_DIR or seeds/].",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("reports/patchrisk_report.html"),
    show_default=True,
    help="HTML file to write.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Rows of the QA queue and of the fleet watchlist to list.",
)
@JSON_OPTION
def report(warehouse, registry_dir, raw_dir, out, top, as_json) -> None:
    """Write one self-contained HTML report (figures embedded, no network): the champion's
    model card, ROC / PR curves beside the oracle's, calibration, SHAP summary, the risk of
    pending releases, the QA queue, a fleet watchlist heatmap, drift over time and the
    registry history. Prints the file's path.
    """
    from ml.report.html import write_report
    from ml.warehouse.dbt import default_raw_dir

    if sys.stderr.isatty():
        click.echo("writing the report ...", err=True)
    path = write_report(warehouse, _registry(registry_dir), raw_dir or default_raw_dir(), out, top)
    click.echo(json.dumps({"report": str(path.resolve())}) if as_json else str(path.resolve()))
