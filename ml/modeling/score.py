"""Score every release of the feature mart with a registry model and write
`ml.release_risk_scores` (and the model's QA ranking evaluation,
`ml.qa_ranking_evaluation`) into the warehouse in one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ml.errors import BadInputError
from ml.modeling.decision import decide
from ml.modeling.explain import Factor, shap_contributions, top_factors
from ml.modeling.features import build_features, check_columns
from ml.modeling.predict import predict_errors, predict_raw_probability
from ml.modeling.registry import LoadedModel
from ml.warehouse.dbt import write_ml_tables

SCORES_TABLE = "release_risk_scores"
TOP_FACTORS = 5
# The table's contract (column, DuckDB type), in order; dbt declares it as a source.
SCORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("release_id", "varchar"),
    ("platform_id", "varchar"),
    ("release_date", "date"),
    ("regression_probability", "double"),
    ("predicted_errors_per_10k_device_days", "double"),
    ("decision", "varchar"),
    ("model_version", "varchar"),
    ("top_factors", "varchar"),
    ("scored_at", "timestamp"),
)
QA_RANKING_TABLE = "qa_ranking_evaluation"
QA_RANKING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("model_version", "varchar"),
    ("ranking", "varchar"),
    ("test_releases", "integer"),
    ("test_regressions", "integer"),
    ("recall_at_20pct_effort", "double"),
    ("popt", "double"),
)


@dataclass(frozen=True)
class MartScores:
    """What the model says about each mart row, in row order (before any formatting)."""

    probability: np.ndarray  # calibrated P(regression)
    predicted_errors: np.ndarray  # post-release errors per 10k device-days
    decision: np.ndarray  # pass / review / block at the model's thresholds
    factors: list[list[Factor]]  # the k largest |SHAP| factors per row


def score_rows(
    mart: pd.DataFrame, model: LoadedModel, k: int = TOP_FACTORS, threads: int = 1
) -> MartScores:
    """Score mart-shaped rows: the one scoring path of `score_mart` and the CI gate
    (`threads` for the SHAP values; the result does not depend on it)."""
    spec = model.spec
    check_columns(mart, spec.required_mart_columns)
    if mart.empty:
        raise BadInputError("the feature mart is empty: nothing to score")
    features = build_features(mart).loc[:, list(spec.features)]
    raw = predict_raw_probability(model.classifier, model.linear_base, features, spec)
    probability = model.calibrator.apply(raw)
    contributions = shap_contributions(
        model.classifier, model.linear_base, features, spec.categorical, threads
    )
    factors = top_factors(contributions, features, k)
    return MartScores(
        probability=probability,
        predicted_errors=predict_errors(model.regressor, model.regressor_target, features, spec),
        decision=decide(probability, model.thresholds),
        factors=factors,
    )


def score_mart(
    mart: pd.DataFrame, model: LoadedModel, scored_at: datetime, k: int = TOP_FACTORS
) -> pd.DataFrame:
    """One row per mart release: calibrated probability, predicted error rate, decision,
    and the k top SHAP factors as a JSON array of {feature, value, contribution}."""
    scores = score_rows(mart, model, k)
    out = pd.DataFrame(
        {
            "release_id": mart["release_id"].astype(str).to_numpy(),
            "platform_id": mart["platform_id"].astype(str).to_numpy(),
            "release_date": pd.to_datetime(mart["release_date"]).dt.date.to_numpy(),
            "regression_probability": scores.probability,
            "predicted_errors_per_10k_device_days": scores.predicted_errors,
            "decision": scores.decision,
            "model_version": model.version,
            "top_factors": [json.dumps([f.to_json() for f in row]) for row in scores.factors],
            "scored_at": scored_at.astimezone(UTC).replace(tzinfo=None),
        }
    )
    return out.loc[:, [c for c, _ in SCORE_COLUMNS]]


def qa_ranking_frame(model: LoadedModel) -> pd.DataFrame:
    """The model's test-slice QA ranking evaluation (from its metadata), one row per ranking."""
    metrics = model.metadata.get("metrics", {})
    rows = [
        {
            "model_version": model.version,
            "ranking": name,
            "test_releases": metrics["rows"],
            "test_regressions": metrics["positives"],
            **values,
        }
        for name, values in metrics.get("qa_ranking", {}).items()
    ]
    return pd.DataFrame(rows, columns=[c for c, _ in QA_RANKING_COLUMNS])


def write_scores(duckdb_path: Path, scores: pd.DataFrame, model: LoadedModel) -> int:
    """Replace ml.release_risk_scores with `scores` and ml.qa_ranking_evaluation with the
    model's QA ranking evaluation, in one transaction; returns the score rows."""
    rows = write_ml_tables(
        duckdb_path,
        {
            SCORES_TABLE: (scores, SCORE_COLUMNS),
            QA_RANKING_TABLE: (qa_ranking_frame(model), QA_RANKING_COLUMNS),
        },
    )
    return rows[SCORES_TABLE]
