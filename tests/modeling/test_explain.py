"""ml.modeling.explain: SHAP contributions add up to the raw log-odds; top factors by
|contribution|."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from catboost import Pool

from ml.modeling.explain import shap_contributions, top_factors
from ml.modeling.features import build_features
from ml.modeling.predict import predict_raw_probability
from ml.modeling.registry import Registry


def test_shap_adds_up_to_log_odds(trained_registry, ml_mart: pd.DataFrame) -> None:
    """Linear base + trees: contributions and both expected values give the raw log-odds."""
    model = Registry(trained_registry).load("champion")
    spec, base = model.spec, model.linear_base
    x = build_features(ml_mart.iloc[:50])
    contrib = shap_contributions(model.classifier, base, x, spec.categorical)
    assert contrib.shape == (50, len(spec.features))
    raw = predict_raw_probability(model.classifier, base, x, spec)
    trees_expected = model.classifier.get_feature_importance(
        Pool(x, cat_features=list(spec.categorical)), type="ShapValues"
    )[:, -1]
    log_odds = contrib.sum(axis=1) + trees_expected + base.expected_log_odds()
    np.testing.assert_allclose(log_odds, np.log(raw / (1 - raw)), atol=1e-6)


def test_top_factors_are_largest_first_and_json_safe() -> None:
    x = pd.DataFrame({"a": [1.0, np.nan], "b": ["ares", "boreas"], "c": [3.0, 4.0]})
    contrib = np.array([[0.1, -0.5, 0.3], [0.0, 0.2, -0.1]])
    factors = top_factors(contrib, x, k=2)
    assert [f.feature for f in factors[0]] == ["b", "c"]
    assert factors[0][0].value == "ares" and factors[0][0].contribution == -0.5
    assert [f.feature for f in factors[1]] == ["b", "c"]
    json.dumps([f.to_json() for row in factors for f in row])
    assert top_factors(np.array([[0.3, 0.0, 0.0]]), x.iloc[[1]], k=1)[0][0].value is None
