"""`patchrisk report`: one self-contained HTML page about the champion and what it drives.

`gather` reads the warehouse and the registry into a ReportData (the I/O edge); `render`
turns a ReportData into HTML (pure); `write_report` does both and writes the file. Figures
are PNGs embedded as data URIs and the CSS is inline: no script, no network.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ml.errors import EnvironmentFailure
from ml.modeling.evaluate import ece, fast_auc
from ml.modeling.explain import shap_contributions
from ml.modeling.features import build_features, class_labels, labelled_rows
from ml.modeling.registry import LoadedModel, Registry
from ml.modeling.score import score_rows
from ml.modeling.split import SplitConfig, time_split
from ml.operations.drift import DRIFT_HISTORY_TABLE, DriftConfig
from ml.report import plots as report_plots
from ml.report.tables import classifier_rows
from ml.warehouse.dbt import ML_SCHEMA, REPO_ROOT
from ml.warehouse.marts import read_feature_mart, read_oracle
from ml.warehouse.readers import read_only_warehouse, require_warehouse

DEFAULT_OUT = Path("reports/patchrisk_report.html")
QA_QUEUE = "marts.fct_qa_priority_queue"
WATCHLIST = "marts.fct_fleet_watchlist"
DRIFT_RUNS = "marts.fct_drift_runs"
DRIFT_CHECKS = f"{ML_SCHEMA}.{DRIFT_HISTORY_TABLE}"  # one row per check of each drift run
WATCHED_TIERS = ("immediate", "enhanced")
# (id, heading) of every section, in page order; tests and `make screenshot` check them.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("model-card", "Model card"),
    ("roc-pr", "ROC and precision-recall curves"),
    ("calibration", "Calibration"),
    ("shap", "SHAP summary"),
    ("risk-distribution", "Risk of pending releases"),
    ("qa-queue", "QA priority queue"),
    ("fleet-watchlist", "Fleet watchlist"),
    ("drift", "Drift over time"),
    ("registry-history", "Registry history"),
)


# ---- data ------------------------------------------------------------------------------
@dataclass(frozen=True)
class HoldoutSlice:
    """The champion's test slice recomputed from the warehouse, with its predictions."""

    y: np.ndarray
    curves: dict[str, np.ndarray]  # "model" and, when the raw folder has it, "oracle"
    features: pd.DataFrame
    contributions: np.ndarray  # SHAP (rows x features), log-odds
    notes: list[str]


@dataclass(frozen=True)
class ReportData:
    generated_at: str
    warehouse: Path
    registry: Path
    champion: dict  # the champion's metadata.json
    aliases: dict[str, str]
    versions: list[dict]  # every version's metadata
    history: list[dict]
    test: HoldoutSlice
    queue: pd.DataFrame
    watchlist: pd.DataFrame
    drift_runs: pd.DataFrame
    latest_drift_checks: pd.DataFrame  # the newest run's checks (empty without a run)


def shown_path(path: Path | str) -> str:
    """A path as the page shows it: relative to the repo when inside it, else only its
    name (a path recorded on another machine, or a temporary folder, means nothing here)."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(REPO_ROOT)) if path.is_absolute() else str(path)
    except ValueError:
        return f".../{path.name}"


def holdout_slice(mart: pd.DataFrame, model: LoadedModel, raw_dir: Path | None) -> HoldoutSlice:
    """The model's test slice as training cut it (time_split with the model's split config
    on the labelled rows), scored by the model, with the oracle beside it."""
    meta = model.metadata
    test = time_split(labelled_rows(mart), SplitConfig(**meta["config"]["split"])).test
    notes = []
    recorded = meta["splits"]["test"]
    dates = pd.to_datetime(test["release_date"])
    if (len(test), str(dates.min().date()), str(dates.max().date())) != (
        recorded["rows"],
        recorded["release_date_min"],
        recorded["release_date_max"],
    ):
        notes.append(
            f"the warehouse has changed since {model.version} was trained: its test slice "
            f"was {recorded['rows']} releases ({recorded['release_date_min']}.."
            f"{recorded['release_date_max']}), the recomputed one has {len(test)}; the curves "
            "use the recomputed slice, the model card the recorded metrics"
        )
    curves = {"model": score_rows(test, model).probability}
    oracle = read_oracle(raw_dir) if raw_dir is not None else None
    truth = (
        test[["release_id"]].merge(oracle, on="release_id", how="left")
        if oracle is not None
        else None
    )
    if truth is not None and truth["true_regression_probability"].notna().all():
        curves["oracle"] = truth["true_regression_probability"].to_numpy(dtype=float)
    else:
        notes.append(
            f"no oracle curve: {shown_path(raw_dir)} has no oracle/release_truth file for "
            "these releases"
        )
    features = build_features(test).loc[:, list(model.spec.features)]
    contributions = shap_contributions(
        model.classifier, model.linear_base, features, model.spec.categorical
    )
    return HoldoutSlice(class_labels(test), curves, features, contributions, notes)


def _relation(con, relation: str) -> pd.DataFrame:
    return con.execute(f"select * from {relation}").df()


def gather(duckdb_path: Path, registry: Registry, raw_dir: Path | None) -> ReportData:
    """Everything the report shows. EnvironmentFailure without a warehouse, its marts or a
    champion; BadInputError when the labelled releases cannot be split."""
    duckdb_path = require_warehouse(duckdb_path)
    if "champion" not in registry.aliases():
        raise EnvironmentFailure(f"no champion in {registry.root} (run patchrisk train first)")
    mart = read_feature_mart(duckdb_path)
    champion = registry.load("champion")  # verified against its file hashes
    test = holdout_slice(mart, champion, raw_dir)
    with read_only_warehouse(duckdb_path, reader="the report") as con:
        queue = _relation(con, f"{QA_QUEUE} order by priority_rank")
        watchlist = _relation(con, f"{WATCHLIST} order by watch_rank")
        drift_runs = _relation(con, f"{DRIFT_RUNS} order by checked_at")
        latest_checks = (
            _relation(
                con,
                f"{DRIFT_CHECKS} where checked_at = (select max(checked_at) from {DRIFT_CHECKS})",
            )
            if len(drift_runs)
            else pd.DataFrame()
        )
    return ReportData(
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        warehouse=duckdb_path,
        registry=registry.root,
        champion=champion.metadata,
        aliases=registry.aliases(),
        versions=[registry.metadata(v) for v in registry.versions()],
        history=registry.history(),
        test=test,
        queue=queue,
        watchlist=watchlist,
        drift_runs=drift_runs,
        latest_drift_checks=latest_checks,
    )


# ---- rendering -------------------------------------------------------------------------
CSS = """
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 0 auto; max-width: 1320px;
       padding: 0 24px 48px; }
header { border-bottom: 3px solid #1f6fb4; margin-bottom: 8px; }
nav a { margin-right: 14px; }
section { border-top: 1px solid #ddd; padding: 6px 0 18px; }
h2 { color: #1f6fb4; }
table { border-collapse: collapse; margin: 8px 0 14px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f4f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.nowrap { white-space: nowrap; }
img.figure { display: block; width: 100%; height: auto; }
.note { color: #666; font-style: italic; }
.decision-block, .tier-immediate { color: #c0392b; font-weight: bold; }
.decision-review, .tier-enhanced { color: #a07800; font-weight: bold; }
.grid { display: flex; flex-wrap: wrap; gap: 0 40px; }
/* `report.html#qa-queue` shows that section alone (make screenshot renders each so) */
body:has(section:target) section:not(:target), body:has(section:target) nav,
body:has(section:target) header { display: none; }
"""

# how a column's numbers are written: a format spec or a function; one per column
Format = str | Callable[[float], str]
DEFAULT_FORMAT = ".3f"


def _esc(value: object) -> str:
    return html.escape(str(value))


def p_value(p: float) -> str:
    """A p-value with three decimals, the smallest ones as "<0.001"."""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _fmt(value: object, fmt: Format = DEFAULT_FORMAT) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if isinstance(value, (float, np.floating)):
        return fmt(float(value)) if callable(fmt) else format(value, fmt)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M") if value.hour or value.minute else str(value.date())
    return str(value)


# a number, "<0.001", a signed difference or an interval ("0.741-0.865", "-0.077..+0.011"):
# right-aligned
_NUMBER = re.compile(r"[-+<]?[\d,]+(?:\.\d+)?(?:(?:-|\.\.)[-+]?[\d,]+(?:\.\d+)?)?")


def _td(text: str, classes: list[str]) -> str:
    if _NUMBER.fullmatch(text):
        classes = [*classes, "num"]
    if "-" in text and not any(c.isspace() for c in text):
        classes = [*classes, "nowrap"]  # ids and dates ("cronos-5.30.2") stay on one line
    klass = f' class="{" ".join(classes)}"' if classes else ""
    return f"<td{klass}>{_esc(text)}</td>"


def _table(
    header: list[str],
    rows: list[list[object]],
    css: dict[int, str] | None = None,
    formats: dict[int, Format] | None = None,
) -> str:
    """An HTML table; `css` gives a column index a class per cell value (e.g. decisions),
    `formats` a column index its number format (default three decimals)."""
    css, formats = css or {}, formats or {}
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            text = _fmt(value, formats.get(i, DEFAULT_FORMAT))
            cells.append(_td(text, [f"{css[i]}-{text}"] if i in css else []))
        body.append("<tr>" + "".join(cells) + "</tr>")
    thead = f"<thead><tr>{head}</tr></thead>" if header else ""
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


def _frame_table(
    frame: pd.DataFrame,
    columns: dict[str, str],
    css: dict[str, str] | None = None,
    formats: dict[str, Format] | None = None,
) -> str:
    """A table of `frame`'s columns (keys) under their headings (values)."""
    names = list(columns)
    rows = (
        frame.loc[:, names].astype(object).where(frame.loc[:, names].notna(), None).values.tolist()
    )
    index = {c: names.index(c) for c in names}
    return _table(
        list(columns.values()),
        rows,
        {index[c]: k for c, k in (css or {}).items()},
        {index[c]: f for c, f in (formats or {}).items()},
    )


def _img(png: bytes, alt: str) -> str:
    return (
        f'<img class="figure" alt="{_esc(alt)}" '
        f'src="data:image/png;base64,{base64.b64encode(png).decode()}">'
    )


def _note(text: str) -> str:
    return f'<p class="note">{_esc(text)}</p>'


def commit_text(recorded: str | None) -> str:
    """The git commit as recorded, with what a `-dirty` suffix means."""
    if not recorded:
        return "- (not recorded: trained outside a git checkout)"
    if recorded.endswith("-dirty"):
        return (
            f"{recorded} (trained from a working tree with uncommitted changes: the commit "
            "alone does not pin the code that trained it)"
        )
    return recorded


def _model_card(data: ReportData) -> str:
    meta = data.champion
    source, metrics, t = meta.get("source", {}), meta["metrics"], meta["thresholds"]
    facts = [
        ["version", meta["version"]],
        ["created", meta["created_at"]],
        ["git commit", commit_text(meta.get("git_commit"))],
        ["training data (SHA-256)", meta["training_data_fingerprint"][:16]],
        [
            "feature mart rows / labelled",
            f"{source.get('mart_rows', '-')} / {source.get('labelled_rows', '-')}",
        ],
        [
            "oracle (raw folder at training)",
            shown_path(source["oracle"]) if source.get("oracle") else "none",
        ],
        ["calibration", meta["calibration"]["method"]],
        ["thresholds", f"review >= {t['review']:.3f}, block >= {t['block']:.3f}"],
        ["features", ", ".join(meta["features"]["names"])],
    ]
    splits = [
        [name, s["rows"], s["positives"], f"{s['release_date_min']} .. {s['release_date_max']}"]
        for name, s in meta["splits"].items()
    ]
    names, clf_rows = classifier_rows(metrics["classifier"])
    regressor = [[n, m["r2"], m["mae"]] for n, m in metrics["regressor"].items()]
    qa = [
        [n, m["recall_at_20pct_effort"], m["popt"]]
        for n, m in metrics.get("qa_ranking", {}).items()
    ]
    return "".join(
        [
            "<p>CatBoost classifier (P(regression), calibrated) and regressor (post-release errors "
            "per 10k device-days) on the feature mart's point-in-time features. Intended use: "
            "decide pass / review / block for a firmware patch before rollout and order QA's "
            "work. Labels come from telemetry; the oracle is the world generator's true "
            "probability, the best any model could do.</p>",
            '<div class="grid"><div>',
            _table([], facts),
            "</div><div><h3>Time-ordered split</h3>",
            _table(["split", "releases", "regressions", "release dates"], splits),
            "</div></div>",
            f"<h3>Classifier on the test slice ({metrics['rows']} releases, "
            f"{metrics['positives']} regressions)</h3>",
            _table(["metric", *names], clf_rows),
            '<div class="grid"><div><h3>Regressor (errors per 10k device-days)</h3>',
            _table(["model", "R²", "MAE"], regressor, formats={2: ",.1f"}),
            "</div><div><h3>QA ranking</h3>",
            _table(["ranking", "Recall@20%Effort", "Popt"], qa) if qa else _note("not recorded"),
            "</div></div>",
        ]
    )


def _curves(data: ReportData) -> str:
    t = data.test
    aucs = ", ".join(f"{name} {fast_auc(t.y, p):.3f}" for name, p in t.curves.items())
    return (
        _img(report_plots.roc_pr_curves(t.y, t.curves), "ROC and precision-recall curves")
        + _note(f"test slice: {len(t.y)} releases, {int(t.y.sum())} regressions; ROC-AUC {aucs}")
        + "".join(_note(n) for n in t.notes)
    )


def _calibration(data: ReportData) -> str:
    t = data.test
    eces = ", ".join(f"{name} {ece(p, t.y):.3f}" for name, p in t.curves.items())
    return _img(report_plots.reliability_diagram(t.y, t.curves), "reliability diagram") + _note(
        f"ECE (10 bins) on the test slice: {eces}"
    )


def _shap(data: ReportData) -> str:
    t = data.test
    return _img(report_plots.shap_summary(t.contributions, t.features), "SHAP summary") + _note(
        f"SHAP values of the uncalibrated classifier on the {len(t.y)} test releases; dot "
        "colour: the feature's value, low blue to high red (grey: categorical)"
    )


def _risk_distribution(data: ReportData) -> str:
    scored = data.queue.dropna(subset=["regression_probability"])
    if scored.empty:
        return _note("no scored release awaits QA (run patchrisk score, then patchrisk build)")
    t = data.champion["thresholds"]
    counts = scored["decision"].value_counts()
    summary = ", ".join(f"{counts.get(d, 0)} {d}" for d in ("pass", "review", "block"))
    png = report_plots.risk_histogram(
        scored["regression_probability"].to_numpy(float),
        {"review": t["review"], "block": t["block"]},
    )
    return _img(png, "risk distribution of pending releases") + _note(
        f"{len(scored)} releases whose observation window is still open: {summary}"
    )


QA_QUEUE_COLUMNS = {
    "priority_rank": "rank",
    "release_id": "release",
    "platform_id": "platform",
    "release_date": "released",
    "patch_type": "type",
    "regression_probability": "P(regression): chance it regresses",
    "decision": "decision (from P)",
    "qa_tier": "QA tier (from P)",
    "lines_changed": "lines changed",
    "risk_per_1k_lines_changed": "P per 1k lines (queue order)",
    "predicted_errors_per_10k_device_days": "predicted errors / 10k device-days",
    "target_fleet_devices": "devices",
    "expected_daily_errors": "expected errors / day (whole fleet)",
}
QA_QUEUE_FORMATS: dict[str, Format] = {
    "predicted_errors_per_10k_device_days": ",.0f",
    "expected_daily_errors": ",.1f",
}


def probability_vs_errors(queue: pd.DataFrame) -> str:
    """Why a blocked release can expect fewer errors than a reviewed one, with the table's
    own example when it has one."""
    text = (
        "Two different predictions. The decision and the QA tier follow P(regression), the "
        "calibrated chance that the release regresses (its errors per 10k device-days reach "
        "1.5x its platform's usual rate, by default). Expected errors / day is the "
        "regressor's predicted error rate (errors per 10k device-days, counting the errors "
        "every release has) times the "
        "platform's active devices / 10,000: it grows with the fleet's size and its usual "
        "error rate, not with the chance of a regression."
    )
    blocked = queue[queue["decision"] == "block"].dropna(subset=["expected_daily_errors"])
    reviewed = queue[queue["decision"] == "review"].dropna(subset=["expected_daily_errors"])
    if blocked.empty or reviewed.empty:
        return text
    low = blocked.loc[blocked["expected_daily_errors"].idxmin()]
    high = reviewed.loc[reviewed["expected_daily_errors"].idxmax()]
    if low["expected_daily_errors"] >= high["expected_daily_errors"]:
        return text
    return text + (
        f" So {low['release_id']} is blocked (P {low['regression_probability']:.3f}, "
        f"{low['expected_daily_errors']:,.1f} errors / day on {int(low['target_fleet_devices']):,} "
        f"devices) while {high['release_id']} only needs a review (P "
        f"{high['regression_probability']:.3f}, {high['expected_daily_errors']:,.1f} errors "
        f"/ day on {int(high['target_fleet_devices']):,} devices)."
    )


def _qa_queue(data: ReportData, top: int) -> str:
    if data.queue.empty:
        return _note("the QA queue is empty")
    shown = data.queue.head(top)
    return "".join(
        [
            _note(f"top {len(shown)} of {len(data.queue)} releases awaiting QA"),
            _frame_table(shown, QA_QUEUE_COLUMNS, {"decision": "decision"}, QA_QUEUE_FORMATS),
            f"<p>{_esc(probability_vs_errors(shown))}</p>",
        ]
    )


WATCHLIST_FORMATS: dict[str, Format] = {
    "device_days": ",.0f",
    "errors_per_10k_device_days": ",.0f",
    "age_weighted_risk_score": ".2f",
}


def _watchlist(data: ReportData, top: int) -> str:
    w = data.watchlist
    if w.empty:
        return _note("no cohort ran a release in the recent window: the watchlist is empty")
    counts = w["watch_tier"].value_counts()
    summary = ", ".join(
        f"{counts.get(k, 0)} {k.replace('_', ' ')}"
        for k in (*WATCHED_TIERS, "standard", "insufficient_data")
    )
    watched = w[w["watch_tier"].isin(WATCHED_TIERS)]
    shown, what = (watched, "immediate + enhanced rows") if len(watched) else (w, "watchlist rows")
    table = pd.crosstab(shown["device_model_id"], shown["device_age_band"]).rename_axis(
        index="device model", columns="device age band"
    )
    columns = {
        "watch_rank": "rank",
        "watch_tier": "tier",
        "release_id": "release",
        "device_model_id": "device model",
        "region": "region",
        "device_age_band": "age band",
        "device_days": "device-days",
        "errors_per_10k_device_days": "errors / 10k dev-days",
        "age_weighted_risk_score": "age-weighted risk",
        "watch_reason": "reason",
    }
    return "".join(
        [
            _note(f"{len(w)} cohort rows: {summary}"),
            _img(
                report_plots.heatmap(table, f"{what} per device model and age band", what),
                "fleet watchlist heatmap",
            ),
            f"<h3>Top {min(top, len(w))} rows</h3>",
            _frame_table(w.head(top), columns, {"watch_tier": "tier"}, WATCHLIST_FORMATS),
        ]
    )


DRIFT_RUN_COLUMNS = {
    "checked_at": "checked at (UTC)",
    "model_version": "champion",
    "window_start_date": "window from",
    "window_end_date": "window to",
    "window_rows": "releases",
    "is_drifted": "drift",
    "drifted_check_count": "drifted checks",
    "min_adjusted_p_value": "smallest adjusted p",
    "drifted_checks": "which",
}


def drift_check_levels(checks: pd.DataFrame) -> pd.DataFrame:
    """A drift run's checks with their `level` (alarm: votes for retraining; warning: a
    patch feature, Holm-adjusted; reported only: no adjusted p) and the `p` that level
    compares with alpha."""
    adjusted = checks["adjusted_p_value"].notna()
    voting = checks["is_voting"].astype(bool)
    level = np.where(voting, "alarm", np.where(adjusted, "warning", "reported only"))
    p = checks["adjusted_p_value"].where(adjusted, checks["p_value"])
    return checks.assign(level=level, p=p)


def _drift(data: ReportData) -> str:
    runs = data.drift_runs
    if runs.empty:
        return _note("no drift checks yet — run patchrisk drift")
    alpha = DriftConfig().alpha
    latest = runs.iloc[-1]
    when = _fmt(pd.Timestamp(latest["checked_at"]))
    checks = drift_check_levels(data.latest_drift_checks)
    title = (
        f"latest drift check ({when} UTC, champion {latest['model_version']}): "
        f"{_fmt(latest['window_rows'])} releases {_fmt(latest['window_start_date'])} .. "
        f"{_fmt(latest['window_end_date'])} vs its training reference"
    )
    verdict = "DRIFT: " + str(latest["drifted_checks"]) if latest["is_drifted"] else "no drift"
    parts = [
        _note(
            f"{len(runs)} drift check{'s' if len(runs) > 1 else ''} recorded, "
            f"{int(runs['is_drifted'].sum())} found drift; the latest says {verdict}. A check "
            f"drifts when its p-value is at most alpha = {alpha:g} (patchrisk drift's default "
            "family-wise rate) after Holm's correction within its level."
        ),
        _img(report_plots.drift_checks(checks, alpha, title), "latest drift check"),
    ]
    if len(runs) > 1:
        parts.append(_img(report_plots.drift_timeline(runs, alpha), "drift over time"))
    else:
        parts.append(
            _note(
                f"only one drift check so far ({when} UTC): the timeline of drift checks "
                "appears from the second (patchrisk drift or make retrain runs one)"
            )
        )
    parts += [
        "<h3>Drift checks (newest last)</h3>",
        _frame_table(runs.tail(20), DRIFT_RUN_COLUMNS, formats={"min_adjusted_p_value": p_value}),
    ]
    return "".join(parts)


def _registry_history(data: ReportData) -> str:
    versions = []
    for meta in data.versions:
        clf = meta["metrics"]["classifier"]
        aliases = ", ".join(a for a, v in sorted(data.aliases.items()) if v == meta["version"])
        versions.append(
            [
                meta["version"],
                aliases or "-",
                meta["created_at"],
                meta["splits"]["train"]["release_date_max"],
                clf["model"]["roc_auc"],
                clf.get("oracle", {}).get("roc_auc"),
                clf["model"]["ece"],
            ]
        )
    events = [
        [
            e["at"],
            e["action"],
            e["alias"],
            e.get("version") or "-",
            e.get("previous") or "-",
            e.get("reason", ""),
        ]
        for e in reversed(data.history)
    ]
    return "".join(
        [
            _table(
                [
                    "version",
                    "aliases",
                    "created",
                    "trained until",
                    "ROC-AUC",
                    "oracle ROC-AUC",
                    "ECE",
                ],
                versions,
            ),
            "<h3>Alias changes (newest first)</h3>",
            _table(["at", "action", "alias", "version", "previous", "reason"], events)
            if events
            else _note("no alias changes recorded"),
        ]
    )


def render(data: ReportData, top: int = 20) -> str:
    """The whole page as one HTML string."""
    bodies = {
        "model-card": _model_card(data),
        "roc-pr": _curves(data),
        "calibration": _calibration(data),
        "shap": _shap(data),
        "risk-distribution": _risk_distribution(data),
        "qa-queue": _qa_queue(data, top),
        "fleet-watchlist": _watchlist(data, top),
        "drift": _drift(data),
        "registry-history": _registry_history(data),
    }
    nav = "".join(f'<a href="#{sid}">{_esc(title)}</a>' for sid, title in SECTIONS)
    sections = "".join(
        f'<section id="{sid}"><h2>{_esc(title)}</h2>{bodies[sid]}</section>'
        for sid, title in SECTIONS
    )
    version = data.champion["version"]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>patchrisk report: champion {_esc(version)}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>Patch regression risk: champion {_esc(version)}</h1>"
        f"<p>Generated {_esc(data.generated_at)} from {_esc(shown_path(data.warehouse))} and "
        f"the registry {_esc(shown_path(data.registry))}.</p></header>"
        f"<nav>{nav}</nav>{sections}</body></html>\n"
    )


def write_report(
    duckdb_path: Path, registry: Registry, raw_dir: Path | None, out: Path, top: int = 20
) -> Path:
    """Gather, render and write the report to `out` (folders created); returns the path."""
    page = render(gather(duckdb_path, registry, raw_dir), top)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write the report {out}: {exc.strerror or exc}") from exc
    return out


# ---- checks (tests and `make screenshot`) ----------------------------------------------
_EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*(?!["']?(?:data:|#))|https?://|<script|<link|@import|url\(""", re.I
)


def problems(page: str) -> list[str]:
    """What is wrong with a rendered page: missing sections, undecodable images, external
    references. Empty when the page is whole and self-contained."""
    found = []
    for sid, title in SECTIONS:
        if f'<section id="{sid}"><h2>{html.escape(title)}</h2>' not in page:
            found.append(f"section {sid!r} is missing")
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    if not images:
        found.append("no embedded image")
    for i, encoded in enumerate(images):
        if not base64.b64decode(encoded).startswith(b"\x89PNG\r\n\x1a\n"):
            found.append(f"image {i} is not a PNG")
    for match in _EXTERNAL.finditer(page):
        found.append(f"external reference near {page[match.start() : match.start() + 40]!r}")
    return found
