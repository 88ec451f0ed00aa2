"""How well a QA ranking spends review effort, on the historical test slice.

QA reviews releases top-down until its effort budget (lines changed) runs out. Rankings
compared on the same releases, with the metrics of effort-aware defect prediction
(Recall@20%Effort: share of regressions found within 20 % of the total effort; Popt: area
under the effort / recall curve relative to the optimal and the worst order):

- `risk_per_effort` (ours, and the order of `fct_qa_priority_queue`): calibrated risk per
  line changed, highest first.
- `prototype_formula`: the prototype's `0.6 * risk + 0.4 * normalised churn` with the
  prototype recipe's own risk; `prototype_formula_our_risk` is the same formula fed our
  risk (the formula's effect alone).
- `random`: the mean over seeded random orders.
- `oracle_risk_per_effort`: the generator's true probability per line changed (the best a
  risk model could feed this ranking).
"""

from __future__ import annotations

import numpy as np

from ml.modeling.evaluate import density_order, popt_of_order, priority_order, recall_within_effort

PROTOTYPE_RISK_WEIGHT = 0.6
RANDOM_ORDERS = 200
RANDOM_SEED = 20240101


def prototype_priority(risk: np.ndarray, churn: np.ndarray) -> np.ndarray:
    """The prototype's QA priority: 0.6 * risk + 0.4 * churn min-max normalised to 0-1."""
    churn = np.asarray(churn, float)
    span = np.nanmax(churn) - np.nanmin(churn)
    normalised = (churn - np.nanmin(churn)) / span if span > 0 else np.zeros_like(churn)
    normalised = np.nan_to_num(normalised, nan=0.0)
    return (
        PROTOTYPE_RISK_WEIGHT * np.asarray(risk, float) + (1 - PROTOTYPE_RISK_WEIGHT) * normalised
    )


def _metrics(order: np.ndarray, y: np.ndarray, effort: np.ndarray) -> dict[str, float]:
    return {
        "recall_at_20pct_effort": recall_within_effort(order, y, effort),
        "popt": popt_of_order(order, y, effort),
    }


def evaluate_rankings(
    y: np.ndarray,
    effort: np.ndarray,
    churn: np.ndarray,
    risk: np.ndarray,
    prototype_risk: np.ndarray | None = None,
    oracle_risk: np.ndarray | None = None,
) -> dict[str, dict[str, float]]:
    """Recall@20%Effort and Popt of every ranking (those whose inputs are given)."""
    y = np.asarray(y, float)
    effort = np.maximum(np.asarray(effort, float), 1.0)
    out = {"risk_per_effort": _metrics(density_order(np.asarray(risk, float), effort), y, effort)}
    if prototype_risk is not None:
        out["prototype_formula"] = _metrics(
            priority_order(prototype_priority(prototype_risk, churn)), y, effort
        )
    out["prototype_formula_our_risk"] = _metrics(
        priority_order(prototype_priority(risk, churn)), y, effort
    )
    rng = np.random.default_rng(RANDOM_SEED)
    shuffled = [_metrics(rng.permutation(len(y)), y, effort) for _ in range(RANDOM_ORDERS)]
    out["random"] = {k: float(np.mean([m[k] for m in shuffled])) for k in shuffled[0]}
    if oracle_risk is not None:
        out["oracle_risk_per_effort"] = _metrics(
            density_order(np.asarray(oracle_risk, float), effort), y, effort
        )
    return out
