"""ml.modeling.linear_base: the numpy scoring of the logistic regression the classifier is boosted
from matches scikit-learn's within the training range and clips outside it; its
contributions are centred SHAP values; it round-trips through JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ml.modeling.features import FeatureSpec, build_features, class_labels, labelled_rows
from ml.modeling.linear_base import LinearBase
from ml.modeling.train import fit_linear_base


@pytest.fixture(scope="module")
def training(ml_mart: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    rows = labelled_rows(ml_mart)
    return build_features(rows), class_labels(rows)


def test_log_odds_match_a_scikit_learn_pipeline(training) -> None:
    x, y = training
    spec = FeatureSpec()
    base = fit_linear_base(x, y, spec, c=0.3)
    numeric = [f for f in x.columns if f not in spec.categorical]
    pipeline = make_pipeline(
        ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
                ("cat", OneHotEncoder(handle_unknown="ignore"), list(spec.categorical)),
            ]
        ),
        LogisticRegression(C=0.3, max_iter=5000),
    ).fit(x, y)
    unseen = x.head(20).copy()
    unseen["platform_id"] = "zephyr"  # a platform never trained on adds nothing
    unseen["test_file_ratio"] = np.nan  # missing: the training median
    for frame in (x, unseen):
        np.testing.assert_allclose(
            base.log_odds(frame), pipeline.decision_function(frame), rtol=1e-4, atol=1e-4
        )


def test_contributions_are_centred_and_add_up(training) -> None:
    x, y = training
    base = fit_linear_base(x, y, FeatureSpec(), c=0.3)
    contributions = base.contributions(x)
    assert contributions.shape == x.shape
    np.testing.assert_allclose(contributions.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(
        base.expected_log_odds() + contributions.sum(axis=1), base.log_odds(x)
    )
    # a constant feature (standard deviation 0) gets scale 1, not a division by zero
    constant = x.assign(touches_drm=1.0)
    assert np.isfinite(fit_linear_base(constant, y, FeatureSpec(), c=0.3).log_odds(x)).all()


def test_values_outside_the_training_range_are_clipped(training) -> None:
    """Like the trees, the base does not extrapolate: a flag of 1000 scores as a flag of 1."""
    x, y = training
    base = fit_linear_base(x, y, FeatureSpec(), c=0.3)
    flagged = x[x["touches_drm"] == 1.0]
    corrupted = flagged.assign(touches_drm=1000.0, test_file_ratio=-5.0)
    lowest = flagged.assign(test_file_ratio=x["test_file_ratio"].min())
    np.testing.assert_allclose(base.log_odds(corrupted), base.log_odds(lowest))


def test_recency_weights_change_the_fit(training) -> None:
    x, y = training
    weight = np.linspace(0.1, 1.0, len(y))
    plain = fit_linear_base(x, y, FeatureSpec(), c=0.3)
    weighted = fit_linear_base(x, y, FeatureSpec(), c=0.3, weight=weight)
    assert not np.allclose(plain.log_odds(x), weighted.log_odds(x))


def test_json_round_trip(training) -> None:
    x, y = training
    base = fit_linear_base(x, y, FeatureSpec(), c=0.3)
    again = LinearBase.from_json(json.loads(json.dumps(base.to_json())))
    assert again == base
    np.testing.assert_array_equal(again.log_odds(x), base.log_odds(x))
