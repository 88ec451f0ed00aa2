"""Probability calibration fitted on the validation slice, stored as JSON parameters.

`sigmoid` (Platt scaling on the model's log-odds: two parameters) for small validation
sets, `isotonic` (a monotone step function, stored as its knots) once the validation
slice is large enough for it not to overfit. Never pickled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

Method = Literal["sigmoid", "isotonic"]
# Isotonic needs enough of both classes to estimate a step function; below this, Platt.
ISOTONIC_MIN_ROWS = 1000
ISOTONIC_MIN_POSITIVES = 100
_EPS = 1e-6


@dataclass(frozen=True)
class Calibrator:
    """A fitted calibration map from raw to calibrated probabilities."""

    method: Method
    params: dict[str, object] = field(default_factory=dict)

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for raw model probabilities."""
        raw = np.asarray(raw, dtype=float)
        if self.method == "sigmoid":
            z = float(self.params["a"]) * _logit(raw) + float(self.params["b"])
            return 1.0 / (1.0 + np.exp(-z))
        xs = np.asarray(self.params["x"], dtype=float)
        ys = np.asarray(self.params["y"], dtype=float)
        return np.interp(raw, xs, ys)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Calibrator:
        return cls(method=data["method"], params=dict(data["params"]))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def choose_method(y: np.ndarray) -> Method:
    """Isotonic when the validation slice is large (rows and positives), else sigmoid."""
    y = np.asarray(y)
    positives = int(y.sum())
    if len(y) >= ISOTONIC_MIN_ROWS and min(positives, len(y) - positives) >= ISOTONIC_MIN_POSITIVES:
        return "isotonic"
    return "sigmoid"


def fit_calibrator(raw: np.ndarray, y: np.ndarray, method: Method | None = None) -> Calibrator:
    """Fit a calibration map of raw validation probabilities to validation labels."""
    raw = np.asarray(raw, dtype=float)
    y = np.asarray(y).astype(int)
    method = method or choose_method(y)
    if method == "sigmoid":
        # Nearly unpenalised Platt scaling (C large), lbfgs: deterministic.
        lr = LogisticRegression(C=1e6, max_iter=1000)
        lr.fit(_logit(raw).reshape(-1, 1), y)
        return Calibrator("sigmoid", {"a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])})
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
    return Calibrator(
        "isotonic",
        {
            "x": [float(v) for v in iso.X_thresholds_],
            "y": [float(v) for v in iso.y_thresholds_],
        },
    )
