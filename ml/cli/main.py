"""`patchrisk`: the command-line interface, a thin layer over the ml package. This module
holds the command group; each command group lives in its own module beside it.

Exit codes shared by every command: 0 success, 1 a finding (gate: a patch fails the gate;
drift: drift), 2 bad input or usage, 3 environment or runtime failure (missing warehouse,
failed build ...), 130 interrupted; every error is one `error: ...` line
(ml.cli.options.OneLineErrors).
"""

from __future__ import annotations

import click

from ml.cli import canary, export, gate, generate, lifecycle, models, monitor, report, warehouse
from ml.cli.options import Group


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="patch-stability-analytics")
def main() -> None:
    """Predict which firmware patches will regress the fleet, before they ship."""


for _command in (
    generate.generate,  # the simulated fleet
    *warehouse.COMMANDS,  # build, docs, audit-labels, freshness
    *models.COMMANDS,  # train, score, models
    gate.gate,  # the CI risk gate
    *lifecycle.COMMANDS,  # drift, retrain, pipeline
    monitor.monitor,  # the fleet watchlist
    canary.canary,  # canary analysis
    export.export,  # Parquet export of the public marts
    report.report,  # the HTML report
):
    main.add_command(_command)
