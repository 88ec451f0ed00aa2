"""ml.modeling.ranking: effort-aware QA rankings against the prototype's formula and chance."""

from __future__ import annotations

import numpy as np
import pytest

from ml.modeling.evaluate import popt, recall_at_effort
from ml.modeling.ranking import evaluate_rankings, prototype_priority


def _slice(seed: int = 0, n: int = 400):
    """Releases whose regressions are small, risky changes: effort-aware ranking should win."""
    rng = np.random.default_rng(seed)
    lines = np.exp(rng.normal(6, 1.5, n)).round() + 1
    risk = 1 / (1 + np.exp(-(rng.normal(-1.5, 1.2, n))))
    y = (rng.uniform(size=n) < risk).astype(int)
    return y, lines, np.log1p(lines), risk


def test_prototype_priority_weights_risk_and_min_max_churn() -> None:
    got = prototype_priority(np.array([0.0, 0.5, 1.0]), np.array([2.0, 4.0, 6.0]))
    np.testing.assert_allclose(got, [0.0, 0.5, 1.0])
    flat = prototype_priority(np.array([0.2, 0.4]), np.array([3.0, 3.0]))
    np.testing.assert_allclose(flat, [0.12, 0.24])


def test_risk_per_effort_is_the_classifier_metric_and_beats_the_alternatives() -> None:
    y, lines, churn, risk = _slice()
    out = evaluate_rankings(y, lines, churn, risk, prototype_risk=risk * 0.5, oracle_risk=risk)
    ours = out["risk_per_effort"]
    assert ours["recall_at_20pct_effort"] == recall_at_effort(risk, y, lines)
    assert ours["popt"] == popt(risk, y, lines)
    for other in ("prototype_formula", "prototype_formula_our_risk", "random"):
        assert ours["recall_at_20pct_effort"] > out[other]["recall_at_20pct_effort"]
        assert ours["popt"] > out[other]["popt"]
    assert out["oracle_risk_per_effort"] == ours  # the oracle risk was ours here


def test_random_ranking_finds_about_its_effort_share() -> None:
    y, lines, churn, risk = _slice(seed=3, n=2000)
    random = evaluate_rankings(y, np.ones_like(lines), churn, risk)["random"]
    assert random["recall_at_20pct_effort"] == pytest.approx(0.2, abs=0.02)
    assert random["popt"] == pytest.approx(0.5, abs=0.03)


def test_optional_rankings_are_left_out_without_their_inputs() -> None:
    y, lines, churn, risk = _slice()
    assert set(evaluate_rankings(y, lines, churn, risk)) == {
        "risk_per_effort",
        "prototype_formula_our_risk",
        "random",
    }
