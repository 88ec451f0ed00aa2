"""Per-release explanations: SHAP values of the uncalibrated classifier.

The classifier's log-odds are its linear base's plus its trees', so a feature's SHAP value
is its linear term (centred on the training mean, exact for a linear model) plus its
CatBoost tree SHAP value. Contributions are in log-odds (positive = raises the regression
risk); with the two expected values they add up to the raw log-odds of the release.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from catboost import CatBoostClassifier, Pool

from ml.modeling.linear_base import LinearBase


@dataclass(frozen=True)
class Factor:
    """One feature's part in one release's score."""

    feature: str
    value: float | str | None
    contribution: float

    def to_json(self) -> dict:
        # as dataclasses.asdict, without its deep copies (30k factors for 10k patches)
        return {"feature": self.feature, "value": self.value, "contribution": self.contribution}


def shap_contributions(
    model: CatBoostClassifier,
    base: LinearBase,
    features: pd.DataFrame,
    categorical: tuple[str, ...],
    threads: int = 1,
) -> np.ndarray:
    """SHAP values, shape (rows, features), without the expected-value column. Rows are
    computed independently, so any `threads` (-1 = all cores) gives the same values."""
    pool = Pool(features, cat_features=list(categorical))
    values = model.get_feature_importance(pool, type="ShapValues", thread_count=threads)
    return np.asarray(values)[:, :-1] + base.contributions(features)


def _json_value(value: object) -> float | str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return round(float(value), 6)
    return str(value)


def top_factors(
    contributions: np.ndarray, features: pd.DataFrame, k: int = 5
) -> list[list[Factor]]:
    """Per row, the k features with the largest |contribution|, largest first."""
    names = list(features.columns)
    values = features.to_numpy(dtype=object)
    contributions = np.asarray(contributions, dtype=float)
    # Largest |contribution| first; a stable sort breaks ties by column order.
    orders = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :k]
    return [
        [
            Factor(names[j], _json_value(values[row, j]), round(float(contributions[row, j]), 6))
            for j in order
        ]
        for row, order in enumerate(orders.tolist())
    ]
