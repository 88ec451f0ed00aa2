"""Plain-text tables of the registry's metrics (what `patchrisk train` / `models show` print)."""

from __future__ import annotations

import math
import textwrap

CLASSIFIER_ROWS = (
    ("roc_auc", "ROC-AUC"),
    ("roc_auc_ci", "  95% CI (bootstrap)"),
    ("roc_auc_gap_to_oracle", "ROC-AUC - oracle"),
    ("roc_auc_gap_ci", "  95% CI (paired)"),
    ("pr_auc", "PR-AUC"),
    ("brier", "Brier"),
    ("ece", "ECE (10 bins)"),
    ("precision_at_block", "precision @ block"),
    ("recall_at_block", "recall @ block"),
    ("precision_at_review", "precision @ review"),
    ("recall_at_review", "recall @ review"),
    ("recall_at_20pct_effort", "Recall@20%Effort"),
    ("popt", "Popt"),
    ("mean_decision_cost", "mean decision cost"),
    ("roc_auc_vs_true_flag", "ROC-AUC vs true flag"),
)


def _fmt(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _cell(metrics: dict, key: str) -> str:
    if key == "roc_auc_ci":
        lo, hi = metrics.get("roc_auc_ci_low"), metrics.get("roc_auc_ci_high")
        return f"{lo:.3f}-{hi:.3f}" if lo is not None and hi is not None else "-"
    if key == "roc_auc_gap_ci":
        lo = metrics.get("roc_auc_gap_to_oracle_ci_low")
        hi = metrics.get("roc_auc_gap_to_oracle_ci_high")
        return f"{lo:+.3f}..{hi:+.3f}" if lo is not None and hi is not None else "-"
    if key == "roc_auc_gap_to_oracle" and metrics.get(key) is not None:
        return f"{metrics[key]:+.3f}"
    return _fmt(metrics.get(key))


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
    )
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def classifier_rows(classifier: dict) -> tuple[list[str], list[list[str]]]:
    """The column names (model, oracle, baselines) and one row per metric that any of them
    has: [label, cell per column]. Shared by the text table and the HTML report."""
    names = list(classifier)
    rows = []
    for key, label in CLASSIFIER_ROWS:
        cells = [_cell(classifier[n], key) for n in names]
        if any(c != "-" for c in cells):
            rows.append([label, *cells])
    return names, rows


# The text table's columns besides the model: (short name, what it is), explained under
# the table (it fits 100 columns)
TEXT_COLUMNS = {
    "oracle": ("oracle", "the generator's true risk"),
    "logistic_regression": ("logistic", "the model's linear base alone"),
    "random_forest": ("forest", "a random forest on the same features"),
    "prototype_recipe": ("prototype", "CatBoost on the prototype's features"),
}


def metrics_table(metrics: dict) -> str:
    """The classifier table (metric x model/oracle/baselines) and the regressor table."""
    names, rows = classifier_rows(metrics["classifier"])
    legend = "; ".join(
        f"{TEXT_COLUMNS[n][0]}: {TEXT_COLUMNS[n][1]}" for n in names if n in TEXT_COLUMNS
    )
    names = [TEXT_COLUMNS[n][0] if n in TEXT_COLUMNS else n for n in names]
    head = (
        f"test slice: {metrics['rows']} releases, {metrics['positives']} regressions "
        "(telemetry label)"
    )
    reg = metrics["regressor"]
    reg_rows = [[n, _fmt(m["r2"]), _fmt(m["mae"])] for n, m in reg.items()]
    parts = [
        head,
        _table(["metric", *names], rows),
        textwrap.fill(legend, 100),
        "",
        "post-release errors per 10k device-days",
        _table(["model", "R²", "MAE"], reg_rows),
    ]
    if "qa_ranking" in metrics:
        qa_rows = [
            [n, _fmt(m["recall_at_20pct_effort"]), _fmt(m["popt"])]
            for n, m in metrics["qa_ranking"].items()
        ]
        parts += ["", "QA ranking", _table(["ranking", "Recall@20%Effort", "Popt"], qa_rows)]
    return "\n".join(parts)
