"""`patchrisk drift`, `retrain` and `pipeline`: keep the champion honest as the world moves."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict
from pathlib import Path

import click

from ml.cli.models import _registry
from ml.cli.options import JSON_OPTION, REGISTRY_OPTION, TEXT_WIDTH, command, warehouse_option
from ml.errors import EnvironmentFailure

EXIT_DRIFT = 1

_RAW_DIR = click.option(
    "--raw-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Raw folder (oracle/release_truth.* for the oracle column) "
    "[default: $PATCHRISK_RAW_DIR or seeds/].",
)
_WINDOW = click.option(
    "--window",
    type=click.IntRange(min=10),
    default=100,
    show_default=True,
    help="Newest releases (after the champion's training data) to check.",
)
_ALPHA = click.option(
    "--alpha",
    type=click.FloatRange(min=0.0001, max=0.5),
    default=0.05,
    show_default=True,
    help="False-alarm rate per check, across all tests (Holm).",
)
_AUC_MARGIN = click.option(
    "--auc-margin",
    type=click.FloatRange(min=0.0, max=0.5),
    default=0.05,
    show_default=True,
    help="ROC-AUC drop below the champion's validation ROC-AUC that is tolerated.",
)
_CALIBRATION_MARGIN = click.option(
    "--calibration-margin",
    type=click.FloatRange(min=1.0, max=10.0),
    default=1.5,
    show_default=True,
    help="Calibration-in-the-large shift (a factor on the odds, either way, against the "
    "validation slice) that is tolerated; 1 tolerates none.",
)


def _drift_options(command):
    """The drift check's options (`_drift_config`'s arguments), shared by `drift` and
    `pipeline`."""
    for option in (_CALIBRATION_MARGIN, _AUC_MARGIN, _ALPHA, _WINDOW):
        command = option(command)
    return command


def _drift_config(window: int, alpha: float, auc_margin: float, calibration_margin: float):
    from ml.operations.drift import DriftConfig

    return DriftConfig(
        window=window, alpha=alpha, auc_margin=auc_margin, calibration_margin=calibration_margin
    )


DRIFT_LEGEND = (
    "p: the test's p-value; Holm p: adjusted with Holm's correction among the checks of its "
    "level; verdict: DRIFT (a voting check drifted: retrain), warning (a feature check "
    "shifted: no retrain trigger), ok, or reported (shown, not tested)."
)


def _drift_text(report) -> str:
    """The reference and the window, one line per check (methods keyed by letter below the
    table), the verdict and a legend; 100 columns."""
    methods = {
        m: chr(ord("A") + i) for i, m in enumerate(dict.fromkeys(c.method for c in report.checks))
    }
    lines = [
        f"champion {report.model_version}: reference {report.reference_start}.."
        f"{report.reference_end} ({report.reference_rows:,} releases)",
        f"window {report.window_start}..{report.window_end} ({report.window_rows:,} releases, "
        f"{report.window_labelled_rows:,} labelled)",
        f"{'check':<45} {'method':<6} {'statistic':>9} {'p':>7} {'Holm p':>7}  verdict",
    ]
    for c in report.checks:
        adjusted = f"{c.adjusted_p_value:7.4f}" if c.adjusted_p_value is not None else "      -"
        adjusted_by = "ok" if c.adjusted_p_value is not None else "reported"
        verdict = ("DRIFT" if c.votes else "warning") if c.drifted else adjusted_by
        lines.append(
            f"{c.name:<45} {methods[c.method]:<6} {c.statistic:9.3f} {c.p_value:7.4f} "
            f"{adjusted}  {verdict}"
        )
    lines.extend(f"method {key}: {method}" for method, key in methods.items())
    lines.extend(textwrap.wrap(DRIFT_LEGEND, TEXT_WIDTH))
    lines.append(f"drift: {'YES' if report.drifted else 'no'} (family-wise alpha {report.alpha})")
    if report.warnings:
        lines.extend(
            textwrap.wrap(
                f"warnings (not a retrain trigger): {', '.join(report.warnings)}", TEXT_WIDTH
            )
        )
    return "\n".join(lines)


@command()
@warehouse_option
@REGISTRY_OPTION
@_drift_options
@click.option("--no-record", is_flag=True, help="Do not append to ml.drift_history.")
@JSON_OPTION
def drift(warehouse, registry_dir, no_record, as_json, **drift_options) -> None:
    """Compare the newest releases' features, predictions and (where labelled) performance
    with the champion's training reference; append the result to ml.drift_history.

    Exit 0: no drift; 1: drift; 2: bad input; 3: environment failure.
    """
    from ml.operations.lifecycle import check_drift

    config = _drift_config(**drift_options)
    report = check_drift(warehouse, _registry(registry_dir), config, not no_record)
    click.echo(json.dumps(report.to_json(), indent=2) if as_json else _drift_text(report))
    if report.drifted:
        raise SystemExit(EXIT_DRIFT)


@command()
@warehouse_option
@_RAW_DIR
@REGISTRY_OPTION
@click.option(
    "--margin",
    type=float,
    default=0.01,
    show_default=True,
    help="ROC-AUC the challenger must gain over the champion to be promoted.",
)
@click.option(
    "--half-life-days",
    type=click.FloatRange(min=1),
    default=365.0,
    show_default=True,
    help="Training releases weigh 0.5 ** (age / half-life): newer releases count more.",
)
@JSON_OPTION
def retrain(warehouse, raw_dir, registry_dir, margin, half_life_days, as_json) -> None:
    """Train a challenger on all data labelled to date; promote it only if it beats the
    champion by --margin ROC-AUC (and a paired-bootstrap lower bound above 0) on the newest
    labelled releases neither was fitted on. The decision and its evidence go to the
    registry history."""
    from ml.operations.lifecycle import RetrainConfig
    from ml.operations.lifecycle import retrain as run_retrain
    from ml.warehouse.dbt import default_raw_dir

    outcome = run_retrain(
        warehouse,
        raw_dir or default_raw_dir(),
        _registry(registry_dir),
        RetrainConfig(margin=margin, recency_half_life_days=half_life_days),
    )
    if as_json:
        click.echo(json.dumps(asdict(outcome), indent=2))
        return
    verdict = "promoted" if outcome.promoted else "kept the champion"
    click.echo(f"{verdict}: {outcome.reason}\nchampion: {outcome.champion_after}")


@command()
@warehouse_option
@_RAW_DIR
@REGISTRY_OPTION
@_drift_options
@JSON_OPTION
def pipeline(warehouse, raw_dir, registry_dir, as_json, **drift_options) -> None:
    """The scheduled flow: dbt build -> drift -> retrain if drifted -> score -> rebuild
    what reads the scores. Idempotent: without new data a second run changes nothing but
    the drift history."""
    from ml.operations.lifecycle import (
        RetrainConfig,
        check_drift,
        score_warehouse,
        train_from_warehouse,
    )
    from ml.operations.lifecycle import retrain as run_retrain
    from ml.warehouse.dbt import BuildConfig, build, default_raw_dir
    from ml.warehouse.raw_contract import check_raw_dir

    raw_dir = raw_dir or default_raw_dir()
    registry = _registry(registry_dir)
    summary: dict = {}

    def dbt_build(step: str, select: str | None = None) -> None:
        result = build(BuildConfig(raw_dir=raw_dir, duckdb_path=warehouse, select=select))
        if not result.success:
            failed = [n.name for n in result.nodes if n.status in ("error", "fail")]
            raise EnvironmentFailure(f"dbt build failed: {failed or result.log[-500:]}")
        summary[f"{step}_seconds"] = round(result.elapsed_seconds, 1)

    check_raw_dir(raw_dir, BuildConfig.raw_format)
    dbt_build("build")
    if "champion" not in registry.aliases():
        summary["trained_first_champion"] = train_from_warehouse(
            warehouse, raw_dir, registry
        ).version
    report = check_drift(warehouse, registry, _drift_config(**drift_options))
    summary["drift"] = report.drifted
    summary["drifted_checks"] = [c.name for c in report.checks if c.drifted and c.votes]
    summary["drift_warnings"] = report.warnings
    if report.drifted:
        outcome = run_retrain(warehouse, raw_dir, registry, RetrainConfig())
        summary["retrain"] = {"promoted": outcome.promoted, "reason": outcome.reason}
    scored = score_warehouse(warehouse, registry)
    summary["scored"] = {"version": scored.version, "rows": scored.rows}
    dbt_build("rebuild_after_scoring", "source:ml+")
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    for key, value in summary.items():
        click.echo(f"{key}: {value}")


COMMANDS = (drift, retrain, pipeline)
