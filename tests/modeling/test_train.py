"""ml.modeling.train: models, calibration, thresholds, baselines and metrics on a small world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.errors import BadInputError
from ml.modeling.train import (
    BASELINES,
    TrainConfig,
    recency_weights,
    run_training,
    training_fingerprint,
)
from ml.warehouse.marts import read_oracle


@pytest.fixture(scope="module")
def run(ml_mart, ml_world):
    return run_training(ml_mart, read_oracle(ml_world))


def test_run_reports_model_oracle_and_baselines(run) -> None:
    clf = run.metrics["classifier"]
    assert list(clf) == ["model", "oracle", *BASELINES]
    for name, m in clf.items():
        assert 0 <= m["roc_auc"] <= 1, name
        assert m["roc_auc_ci_low"] <= m["roc_auc"] <= m["roc_auc_ci_high"], name
        assert "roc_auc_vs_true_flag" in m and "popt" in m and "ece" in m
    assert clf["oracle"]["roc_auc_gap_to_oracle"] == 0
    assert set(run.metrics["regressor"]) == {"model", "platform_trailing_rate"}
    assert run.metrics["rows"] == len(run.split.test)


def test_nothing_is_fitted_on_test(run, ml_mart) -> None:
    """Changing the test slice's labels changes no fitted parameter."""
    test_ids = set(run.split.test["release_id"])
    flipped = ml_mart.copy()
    in_test = flipped["release_id"].isin(test_ids)
    flipped.loc[in_test, "is_regression"] = ~flipped.loc[in_test, "is_regression"].astype(bool)
    flipped.loc[in_test, "post_release_errors_per_10k_device_days"] = 1.0
    other = run_training(flipped, None, TrainConfig(baselines=False))
    assert other.calibrator == run.calibrator
    assert other.thresholds == run.thresholds
    assert other.fingerprint == run.fingerprint
    x = run.split.test.drop(columns=["is_regression"])
    from ml.modeling.features import build_features
    from ml.modeling.train import predict_raw_probability

    f = build_features(x)
    np.testing.assert_array_equal(
        predict_raw_probability(other.classifier, other.linear_base, f, other.spec),
        predict_raw_probability(run.classifier, run.linear_base, f, run.spec),
    )


def test_training_is_deterministic(run, ml_mart, ml_world) -> None:
    again = run_training(ml_mart, read_oracle(ml_world))
    assert again.metrics == run.metrics


def test_fingerprint_tracks_training_rows(run) -> None:
    train = run.split.train
    assert training_fingerprint(train) == run.fingerprint
    changed = train.copy()
    changed.loc[0, "code_churn_score"] += 1
    assert training_fingerprint(changed) != run.fingerprint


def test_probabilities_and_thresholds(run) -> None:
    assert run.calibrator.method == "sigmoid"  # small validation slice
    assert 0 < run.thresholds.review < run.thresholds.block < 1
    assert run.regressor_target in {"log1p", "raw"}


def test_single_class_training_is_bad_input(ml_mart: pd.DataFrame) -> None:
    with pytest.raises(BadInputError, match="single class"):
        run_training(ml_mart.assign(is_regression=ml_mart["is_regression"] & False))


def test_retrain_settings_weigh_recent_releases_and_refit(run, ml_mart) -> None:
    config = TrainConfig(baselines=False, recency_half_life_days=180, refit_on_validation=True)
    refit = run_training(ml_mart, None, config)
    weights = recency_weights(refit.split.train, 180)
    assert weights[-1] == 1.0 and np.all(np.diff(weights) >= 0) and weights[0] < 1.0
    n_train, n_fit = len(refit.split.train), len(refit.split.train) + len(refit.split.validation)
    early_trees = refit.metrics["validation"]["classifier_best_iteration"] + 1
    assert refit.classifier.tree_count_ == round(early_trees * n_fit / n_train)
    fit_rows = pd.concat([refit.split.train, refit.split.validation])
    assert refit.fingerprint == training_fingerprint(fit_rows) != run.fingerprint
    assert refit.metrics["rows"] == run.metrics["rows"]  # the same untouched test slice
