"""`patchrisk train | score | models ...`: thin click wrappers over ml.operations.lifecycle and
ml.modeling.registry (registered on the main group in ml/cli/main.py)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import click

from ml.cli.options import (
    JSON_OPTION,
    REGISTRY_OPTION,
    TEXT_WIDTH,
    Group,
    command,
    warehouse_option,
)

MODELS_LEGEND = (
    "ROC-AUC and ECE: the model on its test slice; oracle: the ROC-AUC of the generator's "
    "true probabilities on that slice; training data: the fingerprint of the data it was "
    "trained on."
)


def _registry(registry_dir: Path | None):
    from ml.modeling.registry import Registry

    return Registry(registry_dir)


@command()
@warehouse_option
@click.option(
    "--raw-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Raw folder holding oracle/release_truth.* for the oracle column "
    "[default: $PATCHRISK_RAW_DIR or seeds/].",
)
@REGISTRY_OPTION
@click.option("--promote", is_flag=True, help="Make the new version the champion at once.")
@click.option("--no-register", is_flag=True, help="Train and evaluate only; write nothing.")
@click.option(
    "--if-needed",
    is_flag=True,
    help="Skip training when the champion fits the current feature contract "
    "(same features as this code, every column it needs in the mart).",
)
@JSON_OPTION
def train(warehouse, raw_dir, registry_dir, promote, no_register, if_needed, as_json) -> None:
    """Train the classifier (CatBoost boosted from a logistic regression's log-odds) and
    the regressor on the feature mart, evaluate them on the newest 20 % of labelled
    releases beside the oracle and the baselines, and register them.

    The new version becomes the challenger (and the champion if there is none yet).
    """
    from ml.operations.lifecycle import champion_fit_problem, train_from_warehouse
    from ml.report.tables import metrics_table
    from ml.warehouse.dbt import default_raw_dir
    from ml.warehouse.marts import read_feature_mart

    if if_needed:
        columns = list(read_feature_mart(warehouse).columns)
        problem = champion_fit_problem(_registry(registry_dir), columns)
        if problem is None:
            message = "champion fits the current feature contract; not training"
            click.echo(json.dumps({"trained": False, "reason": message}) if as_json else message)
            return
        click.echo(f"training: {problem}", err=True)
    if not as_json and sys.stderr.isatty():
        click.echo("training (classifier, regressor, baselines) ...", err=True)
    outcome = train_from_warehouse(
        warehouse,
        raw_dir or default_raw_dir(),
        None if no_register else _registry(registry_dir),
        promote=promote,
    )
    run = outcome.run
    if as_json:
        click.echo(
            json.dumps(
                {
                    "version": outcome.version,
                    "aliases": outcome.aliases,
                    "thresholds": run.thresholds.to_json(),
                    "calibration": run.calibrator.to_json(),
                    "splits": run.split.summary(),
                    "metrics": run.metrics,
                    "timings": run.timings,
                },
                indent=2,
            )
        )
        return
    click.echo(metrics_table(run.metrics))
    click.echo(
        f"\nthresholds: review >= {run.thresholds.review:.3f}, block >= {run.thresholds.block:.3f}"
        f" ({run.calibrator.method} calibration); trained in {run.timings['total_seconds']:.1f} s"
    )
    if outcome.version:
        click.echo(f"registered {outcome.version} as {', '.join(outcome.aliases)}")


@command()
@warehouse_option
@REGISTRY_OPTION
@click.option("--model", default="champion", show_default=True, help="Version or alias.")
@JSON_OPTION
def score(warehouse, registry_dir, model, as_json) -> None:
    """Score every release of the feature mart and replace ml.release_risk_scores."""
    from ml.operations.lifecycle import score_warehouse

    outcome = score_warehouse(warehouse, _registry(registry_dir), model)
    if as_json:
        click.echo(json.dumps(outcome.__dict__, indent=2))
    else:
        counts = ", ".join(f"{k} {v}" for k, v in outcome.decisions.items())
        click.echo(
            f"scored {outcome.rows} releases with {outcome.version} into "
            f"ml.release_risk_scores ({counts})"
        )


@click.group(cls=Group)
def models() -> None:
    """List, inspect, promote and roll back registered models."""


@models.command("list")
@REGISTRY_OPTION
@JSON_OPTION
def list_models(registry_dir, as_json) -> None:
    """Every version with its aliases and headline test metrics."""
    reg = _registry(registry_dir)
    aliases = reg.aliases()
    rows = []
    for version in reg.versions():
        meta = reg.metadata(version)
        clf = meta["metrics"]["classifier"]
        rows.append(
            {
                "version": version,
                "aliases": sorted(a for a, v in aliases.items() if v == version),
                "created_at": meta["created_at"],
                "roc_auc": clf["model"]["roc_auc"],
                "oracle_roc_auc": clf.get("oracle", {}).get("roc_auc"),
                "ece": clf["model"]["ece"],
                "training_data_fingerprint": meta["training_data_fingerprint"],
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no models in {reg.root}")
        return
    click.echo(
        f"{'version':<8} {'aliases':<20} {'created':<20}  {'ROC-AUC':>7} {'oracle':>6} "
        f"{'ECE':>5}  training data"
    )
    for r in rows:
        oracle = r["oracle_roc_auc"]
        click.echo(
            f"{r['version']:<8} {','.join(r['aliases']) or '-':<20} {r['created_at']:<20}  "
            f"{r['roc_auc']:>7.3f} {'-' if oracle is None else f'{oracle:.3f}':>6} "
            f"{r['ece']:>5.3f}  {r['training_data_fingerprint'][:12]}"
        )
    click.echo("\n".join(textwrap.wrap(MODELS_LEGEND, TEXT_WIDTH)))


@models.command()
@click.argument("model", default="champion")
@REGISTRY_OPTION
@JSON_OPTION
def show(model, registry_dir, as_json) -> None:
    """A version's (or alias's) metadata, verified against its file hashes."""
    from ml.report.tables import metrics_table

    meta = _registry(registry_dir).verify(model)
    if as_json:
        click.echo(json.dumps(meta, indent=2))
        return
    click.echo(
        f"{meta['version']}  created {meta['created_at']}  commit {meta['git_commit']}\n"
        f"training data {meta['training_data_fingerprint']}\n"
        + "".join(
            f"split {k}: {v['rows']} releases, {v['release_date_min']}..{v['release_date_max']}\n"
            for k, v in meta["splits"].items()
        )
        + f"thresholds: review >= {meta['thresholds']['review']:.3f}, "
        f"block >= {meta['thresholds']['block']:.3f}; calibration {meta['calibration']['method']}\n"
    )
    click.echo(metrics_table(meta["metrics"]))


@models.command()
@click.argument("model", default="challenger")
@REGISTRY_OPTION
@click.option("--reason", default="promoted", show_default=True, help="Recorded in the history.")
@JSON_OPTION
def promote(model, registry_dir, reason, as_json) -> None:
    """Make MODEL (a version or the challenger) the champion."""
    event = _registry(registry_dir).promote(model, reason)
    click.echo(
        json.dumps(event, indent=2)
        if as_json
        else f"champion: {event['version']} (was {event['previous']})"
    )


@models.command()
@REGISTRY_OPTION
@click.option("--reason", default="rolled back", show_default=True, help="Recorded in history.")
@JSON_OPTION
def rollback(registry_dir, reason, as_json) -> None:
    """Return the champion alias to the previous champion."""
    event = _registry(registry_dir).rollback(reason)
    click.echo(
        json.dumps(event, indent=2)
        if as_json
        else f"champion: {event['version']} (was {event['previous']})"
    )


COMMANDS = (train, score, models)
