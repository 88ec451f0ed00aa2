"""Predictions of a fitted model on a feature frame: the light path scoring and the CI gate
share (CatBoost only; no scikit-learn, SciPy or training code)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from catboost import CatBoostClassifier, CatBoostRegressor, Pool

from ml.modeling.features import FeatureSpec
from ml.modeling.linear_base import LinearBase


def model_pool(
    x: pd.DataFrame,
    y: np.ndarray | None,
    spec: FeatureSpec,
    weight: np.ndarray | None = None,
    baseline: np.ndarray | None = None,
) -> Pool:
    """A CatBoost pool of the feature frame with the spec's categorical columns (and the
    log-odds the trees start from, when training a classifier on a linear base)."""
    categorical = [c for c in spec.categorical if c in x.columns]
    return Pool(x, label=y, cat_features=categorical, weight=weight, baseline=baseline)


def predict_errors(
    model: CatBoostRegressor, target: str, x: pd.DataFrame, spec: FeatureSpec
) -> np.ndarray:
    """Predicted post-release errors per 10k device-days (original scale, >= 0)."""
    raw = model.predict(model_pool(x, None, spec))
    return np.maximum(np.expm1(raw) if target == "log1p" else raw, 0.0)


def predict_raw_probability(
    model: CatBoostClassifier, base: LinearBase, x: pd.DataFrame, spec: FeatureSpec
) -> np.ndarray:
    """The uncalibrated classifier's P(regression): the linear base's log-odds plus the
    trees'."""
    trees = model.predict(model_pool(x, None, spec), prediction_type="RawFormulaVal")
    return 1.0 / (1.0 + np.exp(-(base.log_odds(x) + trees)))
