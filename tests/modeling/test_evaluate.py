"""ml.modeling.evaluate: metric definitions on hand-checkable inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ml.modeling.decision import CostMatrix, Thresholds
from ml.modeling.evaluate import (
    BootstrapConfig,
    bootstrap_auc,
    classifier_metrics,
    ece,
    fast_auc,
    popt,
    precision_recall_at,
    recall_at_effort,
    regressor_metrics,
)


def test_fast_auc_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.uniform(size=300), 1)
    assert fast_auc(y, p) == pytest.approx(roc_auc_score(y, p))


def test_ece_of_calibrated_and_miscalibrated() -> None:
    rng = np.random.default_rng(2)
    p = rng.uniform(size=200_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    assert ece(p, y) < 0.01
    assert ece(np.full(1000, 0.9), np.zeros(1000)) == pytest.approx(0.9)


def test_effort_aware_ranking() -> None:
    y = np.array([1, 0, 1, 0])
    work = np.array([10.0, 10.0, 80.0, 100.0])
    perfect = y / work
    # 20 % of 200 lines = 40: the small regression (10 lines) fits, the 80-line one does not
    assert recall_at_effort(perfect, y, work) == 0.5
    assert popt(perfect, y, work) == pytest.approx(1.0)
    worst = np.array([0.0, 1.0, 0.0, 1.0])
    assert popt(worst, y, work) < 0.5


def test_precision_recall_at_threshold() -> None:
    p = np.array([0.9, 0.8, 0.3, 0.1])
    y = np.array([1, 0, 1, 0])
    assert precision_recall_at(p, y, 0.5) == (0.5, 0.5)
    precision, recall = precision_recall_at(p, y, 0.95)
    assert np.isnan(precision) and recall == 0


def test_classifier_metrics_with_oracle_reference() -> None:
    rng = np.random.default_rng(3)
    truth = rng.uniform(size=400)
    y = (rng.uniform(size=400) < truth).astype(int)
    noisy = np.clip(truth + rng.normal(0, 0.3, 400), 0, 1)
    m = classifier_metrics(
        noisy,
        y,
        np.ones(400),
        Thresholds(0.2, 0.6),
        CostMatrix(),
        BootstrapConfig(n_resamples=200),
        reference=truth,
    )
    assert m["roc_auc_ci_low"] < m["roc_auc"] < m["roc_auc_ci_high"]
    assert m["roc_auc_gap_to_oracle_ci_low"] < 0
    assert 0 <= m["ece"] <= 1 and 0 <= m["brier"] <= 1
    again = bootstrap_auc(noisy, y, BootstrapConfig(n_resamples=200), truth)
    assert again["roc_auc_ci_low"] == m["roc_auc_ci_low"]  # seeded: deterministic


def test_regressor_metrics() -> None:
    m = regressor_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
    assert m["mae"] == pytest.approx(2 / 3)
    assert m["r2"] < 1
