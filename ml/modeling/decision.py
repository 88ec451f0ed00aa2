"""Decisions (pass / review / block) from calibrated probabilities and a cost matrix.

With a calibrated probability p that a patch regresses, the expected cost of an action a
is  E[a] = p * C(a, regression) + (1 - p) * C(a, no regression).  The Bayes decision is
the cheapest action. Each E[a] is a line in p, so the decision changes where two lines
cross: between actions a (cheaper when p is small) and b,

    p* = (C(b, ok) - C(a, ok)) / ((C(b, ok) - C(a, ok)) + (C(a, reg) - C(b, reg))).

With pass cheapest at p = 0 and block cheapest at p = 1: review threshold = the pass /
review crossing, block threshold = the review / block crossing. If these are out of
order, review is never optimal and both thresholds collapse to the pass / block
crossing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

ACTIONS = ("pass", "review", "block")


@dataclass(frozen=True)
class CostMatrix:
    """Cost of each action given the outcome, in engineer-days.

    Defaults: a shipped regression (pass, regression) costs 20 (incident, support
    tickets, RMAs, a hotfix). A targeted QA review costs 2 and catches about 3 regressions
    in 4, so (review, regression) = 2 + 0.25 * 20 = 7. Blocking a good patch costs its
    rework and the delay of its fixes, 8; blocking a bad one costs the rework only, 1.
    Thresholds: review at 2 / 15 = 0.133, block at 6 / 12 = 0.5.
    """

    pass_regression: float = 20.0
    pass_ok: float = 0.0
    review_regression: float = 7.0
    review_ok: float = 2.0
    block_regression: float = 1.0
    block_ok: float = 8.0

    def as_table(self) -> dict[str, dict[str, float]]:
        return {
            a: {
                "regression": getattr(self, f"{a}_regression"),
                "no_regression": getattr(self, f"{a}_ok"),
            }
            for a in ACTIONS
        }

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> CostMatrix:
        return cls(**{k: float(v) for k, v in data.items()})


@dataclass(frozen=True)
class Thresholds:
    """review if p >= review; block if p >= block (block >= review)."""

    review: float
    block: float

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Thresholds:
        return cls(review=float(data["review"]), block=float(data["block"]))


def _crossing(cost: CostMatrix, low: str, high: str) -> float:
    """The p at which action `high` becomes cheaper than `low`."""
    ok_gap = getattr(cost, f"{high}_ok") - getattr(cost, f"{low}_ok")
    reg_gap = getattr(cost, f"{low}_regression") - getattr(cost, f"{high}_regression")
    if ok_gap + reg_gap <= 0:
        raise ValueError(f"cost matrix never prefers {high} over {low}")
    return ok_gap / (ok_gap + reg_gap)


def bayes_thresholds(cost: CostMatrix) -> Thresholds:
    """The Bayes-optimal thresholds on a calibrated probability."""
    review = _crossing(cost, "pass", "review")
    block = _crossing(cost, "review", "block")
    if review >= block:
        both = _crossing(cost, "pass", "block")
        return Thresholds(review=both, block=both)
    return Thresholds(review=review, block=block)


def decide(probability: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    """The action per probability: 'block', 'review' or 'pass'."""
    p = np.asarray(probability, dtype=float)
    return np.where(
        p >= thresholds.block, "block", np.where(p >= thresholds.review, "review", "pass")
    ).astype(object)


def expected_cost(probability: np.ndarray, y: np.ndarray, decisions: np.ndarray, cost: CostMatrix):
    """Mean realised cost of `decisions` against outcomes y (1 = regression)."""
    y = np.asarray(y).astype(bool)
    total = [
        getattr(cost, f"{d}_regression") if reg else getattr(cost, f"{d}_ok")
        for d, reg in zip(decisions, y, strict=True)
    ]
    return float(np.mean(total)) if total else float("nan")
