"""`patchrisk canary`: the canary analysis of a release in rollout, or its evaluation on history
(a thin click layer over ml.operations.canary; registered on the main group in ml/cli/main.py).

Exit codes: 0 success, 2 bad input (unknown release, bad option, no oracle for --evaluate),
3 environment failure (no warehouse or no canary marts in it, a locked warehouse).
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import click

from ml.cli.options import JSON_OPTION, TEXT_WIDTH, command, warehouse_option
from ml.errors import EXIT_BAD_INPUT, BadInputError, fail


def _format_number(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


LEGEND = (
    "Running totals from day 0. dd: device-days; new: the release (matched: in the cohorts "
    "that ran the previous firmware the same day); new err: its errors there; base: the "
    "previous firmware in those cohorts; ratio: error-rate ratio new / base; e-value: the "
    "evidence against ratio <= theta0 (anytime-valid)."
)


def _release_text(report) -> str:
    """The day-by-day table and the final recommendation of one release, then a legend."""
    cfg = report.config
    header = (
        f"{'day':>3} {'date':<10} {'new dd':>8} {'matched dd':>10} {'new err':>7} "
        f"{'base dd':>8} {'base err':>8} {'ratio':>6} {'e-value':>9}  recommendation"
    )
    lines = [
        f"canary {report.release_id} vs previous firmware (previous release "
        f"{report.previous_release_id or 'none'})",
        f"theta0 {cfg.theta0:g} (the tolerated error-rate ratio), alpha {cfg.alpha:g}: "
        f"rollback at e-value >= {1 / cfg.alpha:g}",
        header,
    ]
    for row in report.days.itertuples():
        lines.append(
            f"{row.days_since_release:>3} {str(row.activity_date)[:10]:<10} "
            f"{row.cumulative_new_device_days:>8,} "
            f"{row.cumulative_matched_new_device_days:>10,} "
            f"{row.cumulative_matched_new_error_count:>7,} "
            f"{row.cumulative_baseline_device_days:>8,} "
            f"{row.cumulative_baseline_error_count:>8,} "
            f"{_format_number(row.cumulative_error_rate_ratio):>6} "
            f"{_format_number(row.e_value):>9}  {row.recommendation}"
        )
    status = "" if report.comparison_status == "matched" else f" ({report.comparison_status})"
    alarm = "" if report.alarm_day is None else f"; alarm on day {report.alarm_day}"
    lines.append(f"recommendation: {report.recommendation}{status}{alarm}")
    return "\n".join([*lines, *textwrap.wrap(LEGEND, TEXT_WIDTH)])


def _evaluation_text(evaluation, rows_written: int | None) -> str:
    """The history evaluation as a short table."""
    cfg = evaluation.config
    rate = evaluation.false_alarm_rate
    detection = evaluation.detection_rate
    lines = [
        f"canary evaluation: days 0-{evaluation.canary_days - 1}, theta0 {cfg.theta0:g}, "
        f"alpha {cfg.alpha:g}, {evaluation.releases:,} releases",
        f"{'clean releases evaluated':<34}{evaluation.clean_evaluated:>8,}",
        f"{'false alarms (rollback)':<34}{evaluation.false_alarms:>8,}"
        f"  rate {_format_number(None if rate is None else 100 * rate, 1)} %",
        f"{'true regressions evaluated':<34}{evaluation.regressions_evaluated:>8,}",
        f"{'detected':<34}{evaluation.detected:>8,}"
        f"  rate {_format_number(None if detection is None else 100 * detection, 1)} %",
        f"{'median / p90 detection delay, days':<34}"
        f"{_format_number(evaluation.median_delay_days, 1):>8} / "
        f"{_format_number(evaluation.p90_delay_days, 1)}",
        "detected, by the previous release's truth: "
        + ", ".join(
            f"{k} {d} of {n}" for k, (d, n) in evaluation.detection_by_previous_release.items()
        ),
        "excluded: " + (", ".join(f"{k} {v}" for k, v in evaluation.excluded.items()) or "none"),
    ]
    estimate = evaluation.theta0_estimate
    if estimate is not None:
        lines.extend(
            textwrap.wrap(
                f"theta0 from this history (telemetry labels, q {estimate.quantile:g}): "
                f"{estimate.theta0:.3f} ({estimate.pairs:,} clean pairs, median ratio "
                f"{estimate.median_ratio:.3f}, spread {estimate.between_release_sd:.3f})",
                TEXT_WIDTH,
            )
        )
    if rows_written is not None:
        lines.append(f"wrote {rows_written:,} rows to ml.canary_evaluation")
    return "\n".join(lines)


def resolve_release_id(release: str, platform: str | None) -> str:
    """`ares-4.2.0`, or a VERSION with --platform."""
    if platform:
        return f"{platform}-{release}"
    if "-" not in release:
        raise BadInputError(f"--release {release!r} is a version: give --platform too")
    return release


@command()
@click.option("--release", metavar="RELEASE_ID", help="The release, e.g. ares-4.2.0 (or VERSION).")
@click.option("--platform", default=None, help="Platform of --release when it is a bare VERSION.")
@click.option(
    "--evaluate",
    is_flag=True,
    help="Run the canary over every release's history and score it with the oracle.",
)
@click.option(
    "--raw-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding oracle/release_truth.* for --evaluate "
    "[default: $PATCHRISK_RAW_DIR or seeds].",
)
@warehouse_option
@click.option(
    "--theta0",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Tolerated error-rate ratio new / previous firmware (the null) [default: 1.27].",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=None,
    help="False-alarm bound: rollback when the e-value reaches 1 / alpha [default: 0.05].",
)
@click.option(
    "--min-device-days",
    type=click.FloatRange(min=0),
    default=None,
    help="Hold until the matched new-firmware exposure reaches this [default: 50].",
)
@click.option("--no-write", is_flag=True, help="--evaluate: do not write ml.canary_evaluation.")
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds to wait for a warehouse locked by a writer (dbt build) before exit 3.",
)
@JSON_OPTION
def canary(
    release,
    platform,
    evaluate,
    raw_dir,
    warehouse,
    theta0,
    alpha,
    min_device_days,
    no_write,
    lock_timeout,
    as_json,
) -> None:
    """Canary analysis: compare a release in rollout with the previous firmware in the same
    cohorts, day by day, with an anytime-valid sequential test, and recommend continue / hold /
    rollback ('insufficient data' without a matched baseline). --evaluate backtests it on
    every release against the generator's truth.
    """
    if bool(release) == evaluate:
        raise click.UsageError("give either --release RELEASE_ID or --evaluate")
    from ml.operations.canary import CanaryConfig

    overrides = {"theta0": theta0, "alpha": alpha, "min_device_days": min_device_days}
    config = CanaryConfig(**{k: v for k, v in overrides.items() if v is not None})
    if evaluate:
        _evaluate(config, raw_dir, warehouse, lock_timeout, no_write, as_json)
    else:
        _release(resolve_release_id(release, platform), config, warehouse, lock_timeout, as_json)


def _release(release_id, config, warehouse, lock_timeout, as_json) -> None:
    from ml.operations.canary import analyse_release, read_canary_inputs

    inputs = read_canary_inputs(warehouse, release_id, lock_timeout)
    if not inputs.release_days["release_id"].eq(release_id).any():
        raise BadInputError(
            f"unknown release {release_id!r} (not in marts.fct_canary_release_days)"
        )
    report = analyse_release(inputs, release_id, config)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, default=str))
    else:
        click.echo(_release_text(report))


def _evaluate(config, raw_dir, warehouse, lock_timeout, no_write, as_json) -> None:
    import dataclasses

    from ml.operations.canary import (
        estimate_theta0,
        evaluate_history,
        read_canary_inputs,
        read_release_outcomes,
        write_evaluation,
    )
    from ml.warehouse.dbt import default_raw_dir
    from ml.warehouse.marts import read_oracle

    raw_dir = raw_dir or default_raw_dir()
    oracle = read_oracle(raw_dir)
    if oracle is None:
        fail(f"{raw_dir} has no oracle/release_truth.csv or .parquet", EXIT_BAD_INPUT)
    inputs = read_canary_inputs(warehouse, None, lock_timeout)
    releases = inputs.release_days["release_id"].nunique()
    click.echo(f"evaluating the canary on {releases:,} releases ...", err=True)
    evaluation = dataclasses.replace(
        evaluate_history(inputs, oracle, config),
        theta0_estimate=estimate_theta0(read_release_outcomes(warehouse, lock_timeout)),
    )
    rows = None if no_write else write_evaluation(warehouse, evaluation)
    if as_json:
        click.echo(json.dumps({**evaluation.as_dict(), "rows_written": rows}, indent=2))
    else:
        click.echo(_evaluation_text(evaluation, rows))
