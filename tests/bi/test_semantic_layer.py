"""The semantic layer: `mf query` (a separate process, as an analyst runs it) returns the
same numbers as SQL on the marts."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.bi.conftest import BIN, bi_env

METRICS = (
    "regression_rate",
    "errors_per_10k_device_days",
    "rma_rate",
    "patches_blocked",
    "patches_reviewed",
)

EXPECTED_SQL = """
with outcomes as (
    select
        date_trunc('month', release_date) as month,
        sum(case when is_regression then 1 else 0 end)
            / sum(case when is_label_available then 1 else 0 end) as regression_rate,
        10000.0 * sum(window_error_count) / sum(window_device_days) as errors_per_10k_device_days,
        10000.0 * sum(window_rma_count) / sum(window_device_days) as rma_rate
    from marts.fct_release_outcomes
    group by 1
),
scores as (
    select
        date_trunc('month', release_date) as month,
        count(*) filter (where decision = 'block') as patches_blocked,
        count(*) filter (where decision = 'review') as patches_reviewed
    from marts.fct_release_risk_scores
    group by 1
)
select
    cast(coalesce(outcomes.month, scores.month) as date) as month,
    outcomes.regression_rate,
    outcomes.errors_per_10k_device_days,
    outcomes.rma_rate,
    scores.patches_blocked,
    scores.patches_reviewed
from outcomes
full outer join scores on outcomes.month = scores.month
order by 1
"""


def mf_query(project: Path, warehouse: Path, out_csv: Path, *args: str) -> None:
    result = subprocess.run(
        [str(BIN / "mf"), "query", *args, "--csv", str(out_csv)],
        cwd=project,
        env=bi_env(warehouse, project),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and out_csv.is_file(), result.stdout[-3000:] + result.stderr


def as_float(text: str) -> float | None:
    return None if text in ("", "None", "nan") else float(text)


def test_mf_query_matches_sql_on_the_marts(
    semantic_project: Path, scored_warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "metrics.csv"
    mf_query(
        semantic_project,
        scored_warehouse,
        out,
        "--metrics",
        ",".join(METRICS),
        "--group-by",
        "metric_time__month",
        "--order",
        "metric_time__month",
    )
    with out.open() as f:
        rows = list(csv.DictReader(f))
    with duckdb.connect(str(scored_warehouse), read_only=True) as con:
        expected = con.execute(EXPECTED_SQL).fetchall()
    assert len(rows) == len(expected) > 6
    for row, (month, *values) in zip(rows, expected, strict=True):
        assert row["metric_time__month"][:10] == month.isoformat()
        for metric, value in zip(METRICS, values, strict=True):
            got = as_float(row[metric])
            if value is None:
                assert got is None, (month, metric, got)
            else:
                assert got == pytest.approx(float(value), rel=1e-9), (month, metric)
    # the world has regressions, blocks and reviews, so the comparison means something
    assert sum(as_float(r["patches_blocked"]) or 0 for r in rows) > 0
    assert sum(as_float(r["patches_reviewed"]) or 0 for r in rows) > 0
    assert any((as_float(r["regression_rate"]) or 0) > 0 for r in rows)


def test_mf_query_filters_by_a_dimension(
    semantic_project: Path, scored_warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "by_platform.csv"
    mf_query(
        semantic_project,
        scored_warehouse,
        out,
        "--metrics",
        "regression_rate,labelled_releases",
        "--group-by",
        "release__platform_id",
        "--where",
        "{{ Dimension('release__is_window_closed') }}",
    )
    with out.open() as f:
        got = {r["release__platform_id"]: r for r in csv.DictReader(f)}
    with duckdb.connect(str(scored_warehouse), read_only=True) as con:
        expected = con.execute(
            "select platform_id, count(*) filter (where is_label_available), "
            "avg(case when is_regression then 1.0 else 0.0 end) filter (where is_label_available) "
            "from marts.fct_release_outcomes where is_window_closed group by 1"
        ).fetchall()
    assert set(got) == {p for p, _, _ in expected}
    for platform, labelled, rate in expected:
        assert int(float(got[platform]["labelled_releases"])) == labelled
        assert float(got[platform]["regression_rate"]) == pytest.approx(rate, rel=1e-9)
