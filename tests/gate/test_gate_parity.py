"""Train/serve parity: historical releases' raw attributes fed through the gate's input path
give the feature mart's attributes and context, the same model features, and the scores
`score_mart` gives the mart rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from ml.gate.candidates import load_candidates
from ml.gate.scoring import gate_mart
from ml.modeling.features import build_features
from ml.modeling.registry import Registry
from ml.modeling.score import score_mart
from ml.warehouse.marts import read_feature_mart
from ml.warehouse.readers import read_only_warehouse
from tests.gate.conftest import GateWorld, run

LABELS = ("is_label_available", "is_regression", "post_release_errors_per_10k_device_days")


@pytest.fixture(scope="module")
def history_csv(gate_world: GateWorld, tmp_path_factory) -> Path:
    """The raw firmware_releases table as a gate input file (the raw text, untouched)."""
    raw = pd.read_csv(
        gate_world.raw_dir / "firmware_releases.csv", dtype=str, keep_default_na=False
    )
    out = raw.drop(columns=["release_id"]).rename(columns={"release_date": "planned_release_date"})
    path = tmp_path_factory.mktemp("parity") / "history.csv"
    out.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def mart(gate_world: GateWorld) -> pd.DataFrame:
    return read_feature_mart(gate_world.warehouse).set_index("release_id")


@pytest.fixture(scope="module")
def gate_rows(gate_world: GateWorld, history_csv: Path) -> pd.DataFrame:
    candidates = load_candidates(str(history_csv))
    with read_only_warehouse(gate_world.warehouse) as con:
        frame = gate_mart(con, candidates.frame, candidates.source, backtest=True)
    return frame.set_index("release_id")


def test_every_release_goes_through(gate_rows: pd.DataFrame, mart: pd.DataFrame) -> None:
    assert len(gate_rows) == len(mart) > 300
    assert set(gate_rows.index) == set(mart.index)


def test_attributes_and_context_equal_the_mart(gate_rows: pd.DataFrame, mart: pd.DataFrame) -> None:
    expected = mart.loc[gate_rows.index]
    columns = [c for c in expected.columns if c not in LABELS]
    assert set(columns) <= set(gate_rows.columns)
    for column in columns:
        pd.testing.assert_series_equal(
            gate_rows[column],
            expected[column],
            check_dtype=False,
            check_exact=True,
            check_names=False,
            obj=column,
        )


def test_features_equal_the_mart_path(gate_rows: pd.DataFrame, mart: pd.DataFrame) -> None:
    expected = build_features(mart.loc[gate_rows.index].reset_index())
    actual = build_features(gate_rows.reset_index())
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)


def test_scores_equal_score_mart(
    gate_world: GateWorld, history_csv: Path, mart: pd.DataFrame
) -> None:
    result = run(gate_world.args(str(history_csv), "--backtest"))
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    model = Registry(gate_world.registry).load("champion")
    expected = score_mart(mart.reset_index(), model, datetime.now(UTC)).set_index("release_id")
    assert len(doc["results"]) == len(expected)
    for r in doc["results"]:
        e = expected.loc[r["release_id"]]
        assert r["regression_probability"] == round(float(e["regression_probability"]), 6)
        assert r["predicted_errors_per_10k_device_days"] == round(
            float(e["predicted_errors_per_10k_device_days"]), 3
        )
        assert r["decision"] == e["decision"]
        factors = json.loads(e["top_factors"])[:3]
        assert [(f["feature"], f["value"], f["contribution"]) for f in r["top_factors"]] == [
            (f["feature"], f["value"], f["contribution"]) for f in factors
        ]
    # --release reads the same releases from the warehouse and answers the same
    ids = [r["release_id"] for r in doc["results"]]
    by_id = json.loads(run(gate_world.args("--release", ",".join(ids))).stdout)
    strip = ("row",)
    assert [{k: v for k, v in r.items() if k not in strip} for r in by_id["results"]] == [
        {k: v for k, v in r.items() if k not in strip} for r in doc["results"]
    ]


def _context_row(world: GateWorld, platform: str, day) -> dict:
    import duckdb

    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        frame = con.execute(
            "select * from marts.fct_platform_daily_context "
            "where platform_id = ? and context_date = ?",
            [platform, day],
        ).df()
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def _one(world: GateWorld, tmp_path: Path, **patch) -> pd.Series:
    from tests.gate.conftest import write_csv

    candidates = load_candidates(str(write_csv(tmp_path / "one.csv", [world.patch(**patch)])))
    with read_only_warehouse(world.warehouse) as con:
        return gate_mart(con, candidates.frame, candidates.source).iloc[0]


def test_a_patch_after_the_data_takes_the_now_row(gate_world: GateWorld, tmp_path: Path) -> None:
    from datetime import timedelta

    platform = gate_world.platforms[0]
    planned = gate_world.as_of + timedelta(days=10)
    row = _one(gate_world, tmp_path, platform_id=platform, planned_release_date=str(planned))
    now = _context_row(gate_world, platform, gate_world.as_of + timedelta(days=1))
    assert bool(now["is_after_as_of_date"]) and bool(row["is_after_as_of_date"])
    assert row["context_date"].date() == gate_world.as_of + timedelta(days=1)
    assert (
        row["days_since_previous_release"] == (planned - now["previous_release_date"].date()).days
    )
    for column in (
        "platform_trailing_errors_per_10k_device_days",
        "platform_recent_regression_rate",
    ):
        assert row[column] == now[column] or (pd.isna(row[column]) and pd.isna(now[column]))


def test_a_patch_inside_the_data_takes_its_own_day(gate_world: GateWorld, tmp_path: Path) -> None:
    from datetime import timedelta

    platform = min(gate_world.latest_release, key=gate_world.latest_release.get)
    planned = gate_world.latest_release[platform] + timedelta(days=1)
    assert planned <= gate_world.as_of, "the world needs a platform quiet before the as-of date"
    row = _one(gate_world, tmp_path, platform_id=platform, planned_release_date=str(planned))
    own = _context_row(gate_world, platform, planned)
    assert row["context_date"].date() == planned and not bool(row["is_after_as_of_date"])
    assert row["days_since_previous_release"] == 1
    assert row["platform_trailing_errors_per_10k_device_days"] == pytest.approx(
        own["platform_trailing_errors_per_10k_device_days"], rel=0, abs=0
    )
