"""ml.modeling.decision: Bayes thresholds follow from the cost matrix."""

from __future__ import annotations

import numpy as np
import pytest

from ml.modeling.decision import ACTIONS, CostMatrix, Thresholds, bayes_thresholds, decide


def _expected(cost: CostMatrix, p: float) -> dict[str, float]:
    return {
        a: p * getattr(cost, f"{a}_regression") + (1 - p) * getattr(cost, f"{a}_ok")
        for a in ACTIONS
    }


@pytest.mark.parametrize(
    "cost", [CostMatrix(), CostMatrix(pass_regression=50, block_ok=20), CostMatrix(review_ok=0.5)]
)
def test_thresholds_give_the_cheapest_action(cost: CostMatrix) -> None:
    thresholds = bayes_thresholds(cost)
    grid = np.linspace(0, 1, 1001)
    for p, action in zip(grid, decide(grid, thresholds), strict=True):
        costs = _expected(cost, float(p))
        assert costs[action] <= min(costs.values()) + 1e-9, (p, action, costs)


def test_default_matrix_thresholds() -> None:
    t = bayes_thresholds(CostMatrix())
    assert t.review == pytest.approx(2 / 15)
    assert t.block == pytest.approx(0.5)


def test_review_never_optimal_collapses_thresholds() -> None:
    cost = CostMatrix(review_regression=15, review_ok=5)
    t = bayes_thresholds(cost)
    assert t.review == t.block
    assert set(decide(np.linspace(0, 1, 101), t)) == {"pass", "block"}


def test_decide_bands_and_round_trip() -> None:
    t = Thresholds(review=0.2, block=0.6)
    assert list(decide(np.array([0.1, 0.2, 0.59, 0.6, 0.99]), t)) == [
        "pass",
        "review",
        "review",
        "block",
        "block",
    ]
    assert Thresholds.from_json(t.to_json()) == t
    assert CostMatrix.from_json(CostMatrix().to_json()) == CostMatrix()
