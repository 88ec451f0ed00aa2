"""Metrics on the test slice, beside the oracle (the generator's true probability).

Everything here is a pure function of arrays: probabilities, labels, effort (lines
changed) and thresholds. Ranking metrics for QA (Recall@20%Effort, Popt) order releases
by predicted regression density p / effort, the effort-aware ranking of Kamei et al.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
)

from ml.modeling.decision import CostMatrix, Thresholds, decide, expected_cost

ECE_BINS = 10
EFFORT_BUDGET = 0.2


@dataclass(frozen=True)
class BootstrapConfig:
    """Bootstrap resamples of the test slice for confidence intervals."""

    n_resamples: int = 1000
    seed: int = 20240101
    level: float = 0.95


def ece(p: np.ndarray, y: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error over equal-width probability bins (weighted by size)."""
    p, y = np.asarray(p, float), np.asarray(y, float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() * abs(p[mask].mean() - y[mask].mean())
    return float(total / len(p))


def _effort_curve(order: np.ndarray, y: np.ndarray, effort: np.ndarray):
    """Cumulative effort share (x) and share of regressions found (y), from (0, 0)."""
    x = np.concatenate([[0.0], np.cumsum(effort[order]) / effort.sum()])
    found = np.concatenate([[0.0], np.cumsum(y[order]) / max(y.sum(), 1)])
    return x, found


def density_order(score: np.ndarray, effort: np.ndarray) -> np.ndarray:
    """Releases by descending score / effort (ties: smaller effort first, then position)."""
    return np.lexsort((np.arange(len(score)), effort, -(score / effort)))


def priority_order(priority: np.ndarray) -> np.ndarray:
    """Releases by descending priority (ties: position), for rankings that are not p / effort."""
    priority = np.asarray(priority, float)
    return np.lexsort((np.arange(len(priority)), -priority))


def recall_within_effort(
    order: np.ndarray, y: np.ndarray, effort: np.ndarray, budget: float = EFFORT_BUDGET
) -> float:
    """Share of regressions found reviewing releases in `order` within `budget` of effort."""
    y, effort = np.asarray(y, float), np.asarray(effort, float)
    if y.sum() == 0:
        return float("nan")
    within = np.cumsum(effort[order]) <= budget * effort.sum() + 1e-9
    return float(y[order][within].sum() / y.sum())


def popt_of_order(order: np.ndarray, y: np.ndarray, effort: np.ndarray) -> float:
    """Popt of reviewing in `order`: 1 - (area(optimal) - area(order)) / (area(optimal) -
    area(worst)). Areas under the effort / recall curve; optimal and worst order by actual
    regression density (descending, ascending)."""
    y, effort = np.asarray(y, float), np.asarray(effort, float)
    if y.sum() == 0:
        return float("nan")

    def area(o: np.ndarray) -> float:
        x, found = _effort_curve(o, y, effort)
        return float(np.trapezoid(found, x))

    best = area(density_order(y, effort))
    worst = area(_worst_order(y, effort))
    return float(1 - (best - area(order)) / (best - worst)) if best > worst else float("nan")


def recall_at_effort(
    p: np.ndarray, y: np.ndarray, effort: np.ndarray, budget: float = EFFORT_BUDGET
) -> float:
    """Recall@Effort of the effort-aware ranking by p / effort."""
    effort = np.asarray(effort, float)
    return recall_within_effort(density_order(np.asarray(p, float), effort), y, effort, budget)


def popt(p: np.ndarray, y: np.ndarray, effort: np.ndarray) -> float:
    """Popt of the effort-aware ranking by p / effort."""
    effort = np.asarray(effort, float)
    return popt_of_order(density_order(np.asarray(p, float), effort), y, effort)


def _worst_order(y: np.ndarray, effort: np.ndarray) -> np.ndarray:
    """Non-regressions first, regressions last and largest first (the worst reviewer)."""
    return np.lexsort((np.arange(len(y)), -effort, y / effort))


def precision_recall_at(p: np.ndarray, y: np.ndarray, threshold: float) -> tuple[float, float]:
    """Precision and recall of flagging p >= threshold (precision NaN if nothing flagged)."""
    p, y = np.asarray(p, float), np.asarray(y).astype(bool)
    flagged = p >= threshold
    precision = float(y[flagged].mean()) if flagged.any() else float("nan")
    recall = float(flagged[y].mean()) if y.any() else float("nan")
    return precision, recall


def fast_auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC-AUC via the Mann-Whitney rank sum (ties count one half), as roc_auc_score."""
    ranks = rankdata(p)
    positives = y.astype(bool)
    n1 = positives.sum()
    n0 = len(y) - n1
    return float((ranks[positives].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def bootstrap_auc(
    p: np.ndarray, y: np.ndarray, config: BootstrapConfig, reference: np.ndarray | None = None
) -> dict[str, float]:
    """ROC-AUC percentile CI; with `reference`, also the CI of auc(p) - auc(reference)."""
    p, y = np.asarray(p, float), np.asarray(y).astype(int)
    rng = np.random.default_rng(config.seed)
    aucs, gaps = [], []
    for _ in range(config.n_resamples):
        i = rng.integers(0, len(y), len(y))
        if y[i].min() == y[i].max():
            continue
        aucs.append(fast_auc(y[i], p[i]))
        if reference is not None:
            gaps.append(aucs[-1] - fast_auc(y[i], np.asarray(reference, float)[i]))
    tail = (1 - config.level) / 2
    out = {
        "roc_auc_ci_low": float(np.quantile(aucs, tail)),
        "roc_auc_ci_high": float(np.quantile(aucs, 1 - tail)),
    }
    if reference is not None:
        out["roc_auc_gap_to_oracle_ci_low"] = float(np.quantile(gaps, tail))
        out["roc_auc_gap_to_oracle_ci_high"] = float(np.quantile(gaps, 1 - tail))
    return out


def classifier_metrics(
    p: np.ndarray,
    y: np.ndarray,
    effort: np.ndarray,
    thresholds: Thresholds,
    cost: CostMatrix,
    bootstrap: BootstrapConfig | None = None,
    reference: np.ndarray | None = None,
) -> dict[str, float]:
    """Every classification metric of probabilities p against labels y."""
    p, y = np.asarray(p, float), np.asarray(y).astype(int)
    block_precision, block_recall = precision_recall_at(p, y, thresholds.block)
    review_precision, review_recall = precision_recall_at(p, y, thresholds.review)
    out = {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "ece": ece(p, y),
        "precision_at_block": block_precision,
        "recall_at_block": block_recall,
        "precision_at_review": review_precision,
        "recall_at_review": review_recall,
        "recall_at_20pct_effort": recall_at_effort(p, y, effort),
        "popt": popt(p, y, effort),
        "mean_decision_cost": expected_cost(p, y, decide(p, thresholds), cost),
    }
    if bootstrap is not None:
        out.update(bootstrap_auc(p, y, bootstrap, reference))
    return out


def regressor_metrics(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """R² and MAE on the original scale (errors per 10k device-days)."""
    return {
        "r2": float(r2_score(actual, predicted)),
        "mae": float(mean_absolute_error(actual, predicted)),
    }


def auc_against(p: np.ndarray, flag: np.ndarray) -> float:
    """ROC-AUC of p against another label (e.g. the generator's true regression flag)."""
    flag = np.asarray(flag).astype(int)
    return float(roc_auc_score(flag, p)) if 0 < flag.sum() < len(flag) else float("nan")
