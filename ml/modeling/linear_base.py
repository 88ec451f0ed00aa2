"""The logistic regression the CatBoost classifier is boosted from.

The generator's truth is close to additive in the log-odds. With ~100 regressions to learn
from, trees alone approximate that additive shape coarsely; starting them from a linear
model's log-odds (CatBoost's `baseline`) leaves the trees only what the linear model
misses. Scoring needs numpy and pandas only (the CI gate's light path); fitting is in
`ml.modeling.train`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class NumericTerm:
    """One numeric feature: missing values become `fill`, values are clipped to the
    training range [low, high], then (x - mean) / scale * coef."""

    fill: float
    low: float
    high: float
    mean: float
    scale: float
    coef: float


@dataclass(frozen=True)
class LinearBase:
    """A fitted logistic regression on median-filled, standardised numeric features and
    one-hot categorical features (an unseen or missing category adds nothing)."""

    intercept: float
    numeric: dict[str, NumericTerm]
    categorical: dict[str, dict[str, float]]  # feature -> category -> coefficient
    # feature -> mean of its categorical term over the training rows (centres `contributions`)
    categorical_mean: dict[str, float]

    def contributions(self, x: pd.DataFrame) -> np.ndarray:
        """Per-feature log-odds terms, shape (rows, columns of x), each centred on its
        training mean: the exact SHAP values of a linear model. Features the model does
        not use contribute 0."""
        out = np.zeros((len(x), len(x.columns)))
        for j, name in enumerate(x.columns):
            if name in self.numeric:
                t = self.numeric[name]
                values = x[name].astype(float).fillna(t.fill).clip(t.low, t.high).to_numpy()
                out[:, j] = (values - t.mean) / t.scale * t.coef
            elif name in self.categorical:
                coefs = x[name].map(self.categorical[name]).astype(float).fillna(0.0)
                out[:, j] = coefs.to_numpy() - self.categorical_mean[name]
        return out

    def expected_log_odds(self) -> float:
        """The log-odds of a training-average release (what `contributions` are added to)."""
        return self.intercept + sum(self.categorical_mean.values())

    def log_odds(self, x: pd.DataFrame) -> np.ndarray:
        return self.expected_log_odds() + self.contributions(x).sum(axis=1)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> LinearBase:
        return cls(
            intercept=float(data["intercept"]),
            numeric={k: NumericTerm(**v) for k, v in data["numeric"].items()},
            categorical={k: dict(v) for k, v in data["categorical"].items()},
            categorical_mean=dict(data["categorical_mean"]),
        )
