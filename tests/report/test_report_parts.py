"""The report's parts one at a time: figures (their matplotlib axes, via `__wrapped__`),
explanations and the drift section with more than one run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml.modeling.registry import Registry
from ml.report import plots
from ml.report.html import (
    ReportData,
    commit_text,
    drift_check_levels,
    gather,
    probability_vs_errors,
    render,
)


@pytest.fixture(scope="module")
def data(report_warehouse: Path, trained_registry: Path, ml_world: Path) -> ReportData:
    return gather(report_warehouse, Registry(trained_registry), ml_world)


def test_risk_histogram_counts_releases_in_whole_numbers() -> None:
    fig = plots.risk_histogram.__wrapped__(
        np.array([0.1, 0.12, 0.3, 0.6]), {"review": 0.15, "block": 0.5}
    )
    ticks = fig.axes[0].get_yticks()
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks


def test_drift_timeline_of_one_day_spans_a_week_with_the_alpha_line() -> None:
    runs = pd.DataFrame(
        {
            "checked_at": pd.to_datetime(["2026-06-01 10:00", "2026-06-01 12:00"]),
            "min_adjusted_p_value": [0.5, 0.01],
            "is_drifted": [False, True],
        }
    )
    ax = plots.drift_timeline.__wrapped__(runs, 0.05).axes[0]
    low, high = ax.get_xlim()
    assert high - low >= 7  # matplotlib dates are in days
    assert any(list(line.get_ydata()) == [0.05, 0.05] for line in ax.get_lines())


def test_drift_check_levels() -> None:
    checks = pd.DataFrame(
        {
            "check_name": ["platform_id", "code_churn_score", "platform_avg_device_age_years"],
            "p_value": [0.01, 0.02, 0.001],
            "adjusted_p_value": [0.03, 0.2, None],
            "is_voting": [True, False, False],
            "is_drifted": [True, False, False],
        }
    )
    levels = drift_check_levels(checks)
    assert levels["level"].tolist() == ["alarm", "warning", "reported only"]
    assert levels["p"].tolist() == [0.03, 0.2, 0.001]


def test_drift_section_with_two_runs_draws_the_timeline(data: ReportData) -> None:
    later = data.drift_runs.assign(checked_at=data.drift_runs["checked_at"] + pd.Timedelta(days=3))
    page = render(dataclasses.replace(data, drift_runs=pd.concat([data.drift_runs, later])))
    assert 'alt="drift over time"' in page and 'alt="latest drift check"' in page
    assert "only one drift check so far" not in page
    assert "2 drift checks recorded" in page


def test_a_dirty_commit_is_shown_as_recorded_and_explained() -> None:
    assert commit_text("abc123") == "abc123"
    dirty = commit_text("abc123-dirty")
    assert dirty.startswith("abc123-dirty (") and "uncommitted changes" in dirty


def test_a_blocked_release_expecting_fewer_errors_is_explained() -> None:
    queue = pd.DataFrame(
        {
            "release_id": ["small-1.0", "big-2.0"],
            "decision": ["block", "review"],
            "regression_probability": [0.7, 0.2],
            "expected_daily_errors": [30.0, 100.0],
            "target_fleet_devices": [300, 1000],
        }
    )
    text = probability_vs_errors(queue)
    assert "So small-1.0 is blocked (P 0.700, 30.0 errors / day on 300 devices)" in text
    assert "big-2.0 only needs a review" in text
    swapped = queue.assign(expected_daily_errors=[100.0, 30.0])
    assert "Two different predictions" in probability_vs_errors(swapped)
    assert "So " not in probability_vs_errors(swapped)
