"""ml.modeling.calibration: Platt / isotonic maps, chosen by validation size, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ml.modeling.calibration import Calibrator, choose_method, fit_calibrator


@pytest.fixture
def skewed() -> tuple[np.ndarray, np.ndarray]:
    """Raw scores that overstate a true probability of raw ** 2."""
    rng = np.random.default_rng(0)
    raw = rng.uniform(0.01, 0.99, 4000)
    y = (rng.uniform(size=raw.size) < raw**2).astype(int)
    return raw, y


def test_method_follows_validation_size(skewed) -> None:
    _, y = skewed
    assert choose_method(y[:300]) == "sigmoid"
    assert choose_method(y) == "isotonic"


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_improves_reliability_and_round_trips(skewed, method) -> None:
    raw, y = skewed
    cal = fit_calibrator(raw[:2000], y[:2000], method)
    calibrated = cal.apply(raw[2000:])
    assert np.all((calibrated >= 0) & (calibrated <= 1))
    brier_raw = np.mean((raw[2000:] - y[2000:]) ** 2)
    assert np.mean((calibrated - y[2000:]) ** 2) < brier_raw
    again = Calibrator.from_json(json.loads(json.dumps(cal.to_json())))
    np.testing.assert_array_equal(again.apply(raw), cal.apply(raw))


def test_sigmoid_is_monotone(skewed) -> None:
    raw, y = skewed
    cal = fit_calibrator(raw, y, "sigmoid")
    grid = np.linspace(0.001, 0.999, 200)
    assert np.all(np.diff(cal.apply(grid)) >= 0)
