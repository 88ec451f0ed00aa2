"""The report's figures: pure functions from arrays / frames to PNG bytes.

Each function draws one matplotlib Figure (the object API, Agg renderer: no pyplot state, no
display) and returns it as PNG bytes; ml.report.html embeds them as data URIs, so the
report needs no JavaScript and no network. `function.__wrapped__` returns the Figure itself
(tests read its axes). Figures are WIDTH wide: the page scales each to its content width.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import precision_recall_curve, roc_curve

DPI = 100
WIDTH = 12.7  # inches: the page's content width at DPI (the HTML scales figures to fit)
MODEL_COLOUR = "#1f6fb4"
ORACLE_COLOUR = "#d9822b"
STYLE = {"font.size": 10, "axes.spines.top": False, "axes.spines.right": False}


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


Args = ParamSpec("Args")


def _styled(plot: Callable[Args, Figure]) -> Callable[Args, bytes]:
    """Draw under the report's style (a local rc context: global settings stay as they are)
    and return the figure as PNG bytes."""

    @wraps(plot)
    def wrapper(*args: Args.args, **kwargs: Args.kwargs) -> bytes:
        with rc_context(STYLE):
            return _png(plot(*args, **kwargs))

    return wrapper


@_styled
def roc_pr_curves(y: np.ndarray, curves: dict[str, np.ndarray]) -> Figure:
    """ROC (left) and precision-recall (right) curves of each named probability vector."""
    fig = Figure(figsize=(WIDTH, 5))
    roc_ax, pr_ax = fig.subplots(1, 2)
    colours = [MODEL_COLOUR, ORACLE_COLOUR]
    for (name, p), colour in zip(curves.items(), colours, strict=False):
        fpr, tpr, _ = roc_curve(y, p)
        roc_ax.plot(fpr, tpr, color=colour, lw=2, label=name)
        precision, recall, _ = precision_recall_curve(y, p)
        pr_ax.step(recall, precision, where="post", color=colour, lw=2, label=name)
    roc_ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    pr_ax.axhline(np.mean(y), ls="--", color="grey", lw=1, label="base rate")
    pr_ax.set(xlabel="recall", ylabel="precision", title="Precision-recall", ylim=(0, 1.02))
    for ax in (roc_ax, pr_ax):
        ax.legend(loc="lower right" if ax is roc_ax else "upper right", frameon=False)
    return fig


@_styled
def reliability_diagram(y: np.ndarray, curves: dict[str, np.ndarray], bins: int = 10) -> Figure:
    """Observed regression rate per equal-width probability bin (the ECE's bins), the
    diagonal being perfect calibration (left); how many releases fall in each bin (right)."""
    fig = Figure(figsize=(WIDTH, 5))
    ax, count_ax = fig.subplots(1, 2, sharex=True, gridspec_kw={"width_ratios": [3, 2]})
    edges = np.linspace(0, 1, bins + 1)
    width = 1 / bins / (len(curves) + 1)
    for i, ((name, p), colour) in enumerate(
        zip(curves.items(), [MODEL_COLOUR, ORACLE_COLOUR], strict=False)
    ):
        idx = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
        counts = np.bincount(idx, minlength=bins)
        filled = counts > 0
        mean_p = np.bincount(idx, weights=p, minlength=bins)[filled] / counts[filled]
        rate = np.bincount(idx, weights=y, minlength=bins)[filled] / counts[filled]
        ax.plot(mean_p, rate, marker="o", color=colour, lw=2, label=name)
        count_ax.bar(edges[:-1] + (i + 0.5) * width, counts, width=width, color=colour)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfectly calibrated")
    ax.set(ylabel="observed regression rate", xlim=(0, 1), ylim=(0, 1), title="Reliability")
    ax.set(xlabel="predicted probability (10 bins)")
    ax.legend(loc="upper left", frameon=False)
    count_ax.set(xlabel="predicted probability (10 bins)", ylabel="releases")
    count_ax.set(title="Releases per bin")
    count_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


@_styled
def shap_summary(contributions: np.ndarray, features: pd.DataFrame, top: int = 15) -> Figure:
    """Mean |SHAP| per feature (left) and each release's SHAP value coloured by its feature
    value, low blue to high red (right; grey for categorical features)."""
    names = list(features.columns)
    mean_abs = np.abs(contributions).mean(axis=0)
    order = np.argsort(mean_abs)[-top:]  # largest at the top of the plot
    fig = Figure(figsize=(WIDTH, 0.38 * len(order) + 1.5))
    bar_ax, dot_ax = fig.subplots(1, 2, sharey=True, gridspec_kw={"wspace": 0.05})
    positions = np.arange(len(order))
    bar_ax.barh(positions, mean_abs[order], color=MODEL_COLOUR)
    bar_ax.set(yticks=positions, yticklabels=[names[j] for j in order])
    bar_ax.set(xlabel="mean |SHAP| (log-odds)", title="Feature importance")
    rng = np.random.default_rng(0)
    for row, j in enumerate(order):
        values = pd.to_numeric(features.iloc[:, j], errors="coerce").to_numpy(dtype=float)
        jitter = rng.uniform(-0.3, 0.3, len(values))
        if np.isfinite(values).any():
            colour = pd.Series(values).rank(pct=True).to_numpy()
            dot_ax.scatter(
                contributions[:, j], row + jitter, c=colour, cmap="coolwarm", s=6, vmin=0, vmax=1
            )
        else:
            dot_ax.scatter(contributions[:, j], row + jitter, color="grey", s=6)
    dot_ax.axvline(0, color="grey", lw=1)
    dot_ax.set(xlabel="SHAP value (log-odds; > 0 raises the risk)", title="Per release")
    return fig


@_styled
def risk_histogram(probability: np.ndarray, thresholds: dict[str, float]) -> Figure:
    """Histogram of the pending releases' regression probabilities, thresholds marked."""
    fig = Figure(figsize=(WIDTH, 4))
    ax = fig.subplots()
    ax.hist(probability, bins=np.linspace(0, 1, 41), color=MODEL_COLOUR, edgecolor="white")
    for (name, value), colour in zip(thresholds.items(), ["#c9a400", "#c0392b"], strict=False):
        ax.axvline(value, color=colour, lw=2, ls="--", label=f"{name} >= {value:.3f}")
    ax.set(xlabel="calibrated regression probability", ylabel="pending releases", xlim=(0, 1))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.5 releases
    ax.legend(frameon=False)
    return fig


@_styled
def heatmap(table: pd.DataFrame, title: str, colour_label: str) -> Figure:
    """A table of counts as a heatmap, each cell annotated with its count."""
    fig = Figure(figsize=(WIDTH, 0.42 * table.shape[0] + 1.6))
    ax = fig.subplots()
    image = ax.imshow(table.to_numpy(dtype=float), cmap="OrRd", aspect="auto")
    ax.set_xticks(range(table.shape[1]), labels=[str(c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), labels=[str(i) for i in table.index])
    ax.set(xlabel=table.columns.name, ylabel=table.index.name, title=title)
    top = max(float(table.to_numpy().max()), 1.0)
    for (i, j), value in np.ndenumerate(table.to_numpy()):
        ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize=10,
                color="white" if value > top / 2 else "black")  # fmt: skip
    fig.colorbar(image, ax=ax, label=colour_label)
    return fig


DRIFT_LEVELS = {  # level -> (colour, marker, legend label)
    "alarm": (MODEL_COLOUR, "o", "alarm check (votes for retraining): Holm-adjusted p"),
    "warning": ("#c9a400", "D", "warning (a patch feature): Holm-adjusted p"),
    "reported only": ("grey", "o", "reported only, not tested against alpha: raw p"),
}
DRIFTED_COLOUR = "#c0392b"
P_FLOOR = 1e-4  # permutation p-values stop at 1 / (permutations + 1)


def _alpha_line(ax, alpha: float, vertical: bool) -> None:
    line = ax.axvline if vertical else ax.axhline
    line(alpha, color=DRIFTED_COLOUR, ls="--", lw=1.5, label=f"alpha = {alpha:g} (drift below)")


@_styled
def drift_checks(checks: pd.DataFrame, alpha: float, title: str) -> Figure:
    """Each check of one drift run (columns check_name, level, p, is_drifted) as its p-value
    on a log scale against alpha; drifted checks in red, reported-only ones as rings."""
    fig = Figure(figsize=(WIDTH, 0.3 * len(checks) + 2), layout="constrained")
    ax = fig.subplots()
    rows = np.arange(len(checks))[::-1]  # first check at the top
    p = checks["p"].astype(float).clip(lower=P_FLOOR).to_numpy()
    drifted = checks["is_drifted"].astype(bool).to_numpy()
    for level, (colour, marker, label) in DRIFT_LEVELS.items():
        mine = (checks["level"] == level).to_numpy()
        if not mine.any():
            continue
        face = "none" if level == "reported only" else colour
        ax.scatter(p[mine], rows[mine], marker=marker, s=40, facecolors=face,
                   edgecolors=colour, zorder=3, label=label)  # fmt: skip
    if drifted.any():
        ax.scatter(p[drifted], rows[drifted], s=40, color=DRIFTED_COLOUR, zorder=4,
                   label="drifted")  # fmt: skip
    _alpha_line(ax, alpha, vertical=True)
    ax.set_yticks(rows, labels=checks["check_name"].tolist())
    ax.set(xscale="log", xlim=(P_FLOOR / 2, 1.5), title=title)
    ax.set(xlabel="p-value (log scale; smaller = stronger evidence of a change)")
    ax.grid(axis="y", color="#eee")
    _legend_below(ax)
    return fig


def _legend_below(ax) -> None:
    """The legend under the axes (the figure needs layout="constrained")."""
    ax.figure.legend(loc="outside lower center", ncol=3, frameon=False)


@_styled
def drift_timeline(runs: pd.DataFrame, alpha: float) -> Figure:
    """The smallest Holm-adjusted p-value of each drift run's alarm checks over time (log
    scale) against alpha, drifted runs in red; the date axis spans at least a week."""
    fig = Figure(figsize=(WIDTH, 4), layout="constrained")
    ax = fig.subplots()
    at = pd.to_datetime(runs["checked_at"])
    p = runs["min_adjusted_p_value"].astype(float).clip(lower=P_FLOOR)
    drifted = runs["is_drifted"].astype(bool).to_numpy()
    ax.plot(at, p, color="grey", lw=1)
    ax.scatter(at[~drifted], p[~drifted], color=MODEL_COLOUR, zorder=3, label="no drift")
    ax.scatter(at[drifted], p[drifted], color=DRIFTED_COLOUR, zorder=3, label="drift")
    _alpha_line(ax, alpha, vertical=False)
    pad = max((at.max() - at.min()) * 0.05, (pd.Timedelta(days=7) - (at.max() - at.min())) / 2)
    ax.set_xlim(at.min() - pad, at.max() + pad)
    locator = mdates.AutoDateLocator(maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set(yscale="log", ylim=(P_FLOOR / 2, 1.5), xlabel="checked at (UTC)")
    ax.set(ylabel="smallest adjusted p")
    _legend_below(ax)
    return fig
