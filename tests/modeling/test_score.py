"""ml.modeling.score: one row per release, written atomically as ml.release_risk_scores."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from ml.errors import BadInputError, EnvironmentFailure
from ml.modeling.registry import Registry
from ml.modeling.score import QA_RANKING_COLUMNS, SCORE_COLUMNS, score_mart, write_scores
from ml.modeling.train import predict_raw_probability
from ml.operations.drift import DRIFT_HISTORY_COLUMNS
from ml.warehouse.dbt import PROJECT_DIR

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def model(trained_registry):
    return Registry(trained_registry).load("champion")


def test_scores_one_row_per_release(model, ml_mart: pd.DataFrame) -> None:
    scores = score_mart(ml_mart, model, AT)
    assert list(scores.columns) == [c for c, _ in SCORE_COLUMNS]
    assert list(scores["release_id"]) == list(ml_mart["release_id"])
    assert scores["regression_probability"].between(0, 1).all()
    assert (scores["predicted_errors_per_10k_device_days"] >= 0).all()
    assert set(scores["decision"]) <= {"pass", "review", "block"}
    t = model.thresholds
    p = scores["regression_probability"]
    assert (scores.loc[p >= t.block, "decision"] == "block").all()
    assert (scores.loc[p < t.review, "decision"] == "pass").all()
    factors = json.loads(scores["top_factors"].iloc[0])
    assert len(factors) == 5 and set(factors[0]) == {"feature", "value", "contribution"}
    assert (scores["model_version"] == "v0001").all()


def test_scores_match_training_probabilities(model, ml_mart: pd.DataFrame) -> None:
    """Train/serve parity: scoring applies the stored calibration to the same features."""
    from ml.modeling.features import build_features

    scores = score_mart(ml_mart, model, AT)
    features = build_features(ml_mart)
    raw = predict_raw_probability(model.classifier, model.linear_base, features, model.spec)
    np.testing.assert_allclose(scores["regression_probability"], model.calibrator.apply(raw))


def test_missing_column_is_bad_input(model, ml_mart: pd.DataFrame) -> None:
    with pytest.raises(BadInputError, match="test_file_ratio"):
        score_mart(ml_mart.drop(columns=["test_file_ratio"]), model, AT)


def test_write_replaces_table_atomically(model, ml_mart, warehouse_copy: Path) -> None:
    scores = score_mart(ml_mart, model, AT)
    assert write_scores(warehouse_copy, scores, model) == len(ml_mart)
    assert write_scores(warehouse_copy, scores.iloc[:5], model) == 5
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        types = con.execute("describe ml.release_risk_scores").fetchall()
        assert [(r[0], r[1].lower()) for r in types] == list(SCORE_COLUMNS)
        qa = con.execute("select * from ml.qa_ranking_evaluation order by ranking").df()
    assert list(qa.columns) == [c for c, _ in QA_RANKING_COLUMNS]
    assert set(qa["ranking"]) == set(model.metadata["metrics"]["qa_ranking"])
    assert (qa["model_version"] == model.version).all()
    assert qa["recall_at_20pct_effort"].between(0, 1).all()
    broken = scores.assign(release_date="not a date")
    with pytest.raises(EnvironmentFailure):
        write_scores(warehouse_copy, broken, model)
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        assert con.execute("select count(*) from ml.release_risk_scores").fetchall() == [(5,)]


def test_no_warehouse_is_environment_failure(model, ml_mart, tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFailure, match="no warehouse"):
        write_scores(tmp_path / "missing.duckdb", score_mart(ml_mart.iloc[:3], model, AT), model)


def test_ml_table_contracts_match_the_dbt_source():
    sources = yaml.safe_load((PROJECT_DIR / "models/staging/ml/_ml__sources.yml").read_text())
    declared = {
        table["name"]: [(c["name"], c["data_type"]) for c in table["columns"]]
        for table in sources["sources"][0]["tables"]
    }
    assert declared == {
        "release_risk_scores": list(SCORE_COLUMNS),
        "qa_ranking_evaluation": list(QA_RANKING_COLUMNS),
        "drift_history": list(DRIFT_HISTORY_COLUMNS),
    }
