"""`patchrisk gate`: score candidate patches against the warehouse and decide pass / review /
block, the way training saw releases.

A candidate becomes a row shaped like `marts.fct_release_features`: its release attributes
derived from its raw fields by `ml.gate.release_attributes` (the twin of the dbt SQL), joined to
its platform's row of `marts.fct_platform_daily_context` on the context date, with
days_since_previous_release counted from the planned date. The context date is the planned
date when the data covers it (on or before the as-of date), else the as-of date + 1 (the
row holding everything observable now). `ml.modeling.score.score_mart` then applies the model as it
does to the mart, so the features, probabilities and decisions of a historical release are
the same on both paths (tests/gate/test_gate_parity.py).

The warehouse is opened read-only, read inside one transaction and closed before scoring.
A warehouse held by a writer (a running `dbt build`) is an EnvironmentFailure (exit 3).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ml.errors import BadInputError, EnvironmentFailure
from ml.gate.candidates import INPUT_COLUMNS, Candidates, shown
from ml.gate.release_attributes import derive_release_attributes, version_parts
from ml.modeling.decision import ACTIONS, Thresholds, decide
from ml.warehouse.readers import CONTEXT_MART, as_of_date, read_only_warehouse

SCHEMA_VERSION = 1
TOP_FACTORS = 3
RELEASES_MART = "marts.dim_firmware_releases"
# Context columns the feature mart takes from fct_platform_daily_context.
CONTEXT_COLUMNS: tuple[str, ...] = (
    "previous_release_errors_per_10k_device_days",
    "latest_labelled_release_id",
    "is_latest_labelled_release_regression",
    "recent_labelled_release_count",
    "platform_recent_regression_rate",
    "platform_trailing_errors_per_10k_device_days",
    "platform_active_devices_day_before",
    "platform_avg_device_age_days",
    "platform_share_devices_older_than_3_years",
    "platform_releases_previous_30_days",
)
# A release's identity for "already released": its platform and version numbers.
_VERSION_KEY: tuple[str, ...] = ("platform_id", "version_major", "version_minor", "version_patch")
FailOn = Literal["block", "review"]


def _rows(con, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def candidates_from_releases(con, release_ids: list[str]) -> pd.DataFrame:
    """Released firmware (by release_id) as candidate rows: raw fields, release_date as
    the planned date. Unknown ids raise BadInputError."""
    wanted = pd.DataFrame({"release_id": release_ids, "row": np.arange(1, len(release_ids) + 1)})
    con.register("gate_wanted_releases", wanted)
    found = _rows(
        con,
        f"""
        select w.row, w.release_id, r.version, r.platform_id, r.patch_type, r.files_changed,
            r.lines_added, r.lines_deleted, r.components_touched, r.package_size_kb,
            r.test_files_changed, r.release_date as planned_release_date,
            r.has_quarantined_code_change_counts
        from gate_wanted_releases as w
        left join {RELEASES_MART} as r on w.release_id = r.release_id
        order by w.row
        """,
    )
    con.unregister("gate_wanted_releases")
    unknown = found[found["version"].isna()]
    if not unknown.empty:
        raise BadInputError(
            f"--release {unknown['release_id'].iloc[0]}: no such release in {RELEASES_MART}"
        )
    quarantined = found["has_quarantined_code_change_counts"].astype(bool)
    if quarantined.any():
        bad = found["release_id"][quarantined].iloc[0]
        raise BadInputError(
            f"--release {bad}: its code-change counts were quarantined "
            "(see marts.fct_quarantined_raw_rows)"
        )
    out = found.loc[:, ["row", *INPUT_COLUMNS]].copy()
    out["components_touched"] = out["components_touched"].fillna("").astype(object)
    for c in ("files_changed", "lines_added", "lines_deleted", "test_files_changed"):
        out[c] = out[c].astype("int64")
    out["package_size_kb"] = out["package_size_kb"].astype("Int64")
    out["planned_release_date"] = pd.to_datetime(out["planned_release_date"]).astype(
        "datetime64[s]"
    )
    return out


def _released_versions(candidates: pd.DataFrame, releases: pd.DataFrame) -> pd.DataFrame:
    """Candidates with the release_id and release_date of the same platform and version
    number (5.5.0 is 05.5.0 in a warehouse that kept such a spelling); nulls when new."""
    parts = dict(zip(_VERSION_KEY[1:], version_parts(candidates["version"]), strict=True))
    keyed = candidates.assign(**parts)
    first = releases.astype(dict.fromkeys(_VERSION_KEY[1:], "Int64")).drop_duplicates(
        list(_VERSION_KEY)
    )
    return keyed.merge(first, on=list(_VERSION_KEY), how="left", validate="many_to_one")


def _bad_row(frame: pd.DataFrame, mask: pd.Series | np.ndarray) -> pd.Series:
    return frame.loc[np.asarray(mask)].iloc[0]


def gate_mart(con, candidates: pd.DataFrame, source: str, backtest: bool = False) -> pd.DataFrame:
    """Candidates as rows shaped like marts.fct_release_features (labels excluded), plus
    `row`, `context_date` and `is_after_as_of_date`.

    Raises BadInputError for an unknown platform, a version already released or a planned
    date not after the platform's latest release (the last two are skipped in backtest
    mode, which scores released versions as of their own dates).
    """
    as_of = as_of_date(con)
    now = pd.Timestamp(as_of + timedelta(days=1))
    c = candidates.reset_index(drop=True).copy()
    c["planned_release_date"] = c["planned_release_date"].fillna(now).astype("datetime64[s]")
    platforms = _rows(
        con,
        f"""
        select platform_id, min(context_date) as first_context_date
        from {CONTEXT_MART} group by platform_id
        """,
    )
    known = c["platform_id"].isin(platforms["platform_id"])
    if not known.all():
        bad = _bad_row(c, ~known)
        raise BadInputError(
            f"{source} row {bad['row']}, column platform_id: unknown platform "
            f"{shown(bad['platform_id'])} (known: {', '.join(sorted(platforms['platform_id']))})"
        )
    releases = _rows(
        con,
        f"""
        select release_id, platform_id, release_date, {", ".join(_VERSION_KEY[1:])}
        from {RELEASES_MART}
        """,
    )
    if not backtest:
        released = _released_versions(c, releases)
        is_released = released["release_id"].notna().to_numpy()
        if is_released.any():
            bad = _bad_row(released, is_released)
            raise BadInputError(
                f"{source} row {bad['row']}, column version: {bad['platform_id']} "
                f"{bad['version']} is already released ({bad['release_id']} on "
                f"{pd.Timestamp(bad['release_date']).date()})"
            )
        latest = releases.groupby("platform_id")["release_date"].max()
        latest_date = pd.to_datetime(c["platform_id"].map(latest))
        early = (c["planned_release_date"] <= latest_date).to_numpy()
        if early.any():
            bad = c.loc[early].iloc[0]
            raise BadInputError(
                f"{source} row {bad['row']}, column planned_release_date: "
                f"{bad['planned_release_date'].date()} is not after {bad['platform_id']}'s "
                f"latest release ({pd.Timestamp(latest[bad['platform_id']]).date()})"
            )
    c["context_date"] = c["planned_release_date"].where(c["planned_release_date"] <= now, now)
    first = pd.to_datetime(
        c["platform_id"].map(platforms.set_index("platform_id")["first_context_date"])
    )
    before = (c["context_date"] < first).to_numpy()
    if before.any():
        bad = c.loc[before].iloc[0]
        raise BadInputError(
            f"{source} row {bad['row']}, column planned_release_date: "
            f"{bad['planned_release_date'].date()} is before {bad['platform_id']}'s first "
            "release: no context"
        )
    keys = c.loc[:, ["platform_id", "context_date"]].drop_duplicates()
    keys["context_date"] = keys["context_date"].dt.date
    con.register("gate_context_keys", keys)
    context = _rows(
        con,
        f"""
        select
            ctx.platform_id, ctx.context_date, ctx.is_after_as_of_date,
            ctx.previous_release_id, ctx.previous_release_date,
            prev.version_major as previous_version_major,
            prev.version_minor as previous_version_minor,
            {", ".join(f"ctx.{col}" for col in CONTEXT_COLUMNS)}
        from gate_context_keys as k
        inner join {CONTEXT_MART} as ctx
            on k.platform_id = ctx.platform_id and k.context_date = ctx.context_date
        left join {RELEASES_MART} as prev on ctx.previous_release_id = prev.release_id
        """,
    )
    con.unregister("gate_context_keys")
    if len(context) != len(keys):
        raise EnvironmentFailure(
            f"{CONTEXT_MART} lacks context rows the gate needs "
            f"({len(keys) - len(context)} of {len(keys)} platform x day keys): rebuild it"
        )
    context["context_date"] = pd.to_datetime(context["context_date"]).astype("datetime64[s]")
    joined = c.merge(
        context, on=["platform_id", "context_date"], how="left", validate="many_to_one"
    )
    raw = joined.rename(columns={"planned_release_date": "release_date"})
    attributes = derive_release_attributes(raw)
    previous_date = pd.to_datetime(joined["previous_release_date"])
    gap = (joined["planned_release_date"] - previous_date).dt.days
    out = attributes.assign(days_since_previous_release=gap.astype("Int64"))
    for col in CONTEXT_COLUMNS:
        out[col] = joined[col]
    out.insert(0, "row", joined["row"].to_numpy())
    out["context_date"] = joined["context_date"]
    out["is_after_as_of_date"] = joined["is_after_as_of_date"].astype(bool)
    out.attrs["as_of_date"] = as_of
    return out


# ---- model -------------------------------------------------------------------------------
def load_model(registry_dir: Path | None, name: str):
    """The verified registry model; a missing registry or champion is an environment
    failure (exit 3), an unknown explicit version a bad request (exit 2)."""
    from ml.modeling.registry import ALIASES, Registry

    registry = Registry(registry_dir)
    if not registry.root.is_dir():
        raise EnvironmentFailure(f"no model registry at {registry.root}")
    if name in ALIASES and name not in registry.aliases():
        raise EnvironmentFailure(f"the registry {registry.root} has no {name} model")
    try:
        return registry.load(name)
    except (EnvironmentFailure, BadInputError):
        raise
    except Exception as exc:  # a CatBoost load error, unreadable metadata ...
        raise EnvironmentFailure(f"cannot load model {name!r}: {exc}") from exc


# ---- decisions and the report ----------------------------------------------------------
@dataclass(frozen=True)
class GateSettings:
    """Threshold overrides (None = the model's) and which decision fails the gate."""

    review_threshold: float | None = None
    block_threshold: float | None = None
    fail_on: FailOn = "block"

    def thresholds(self, model: Thresholds) -> Thresholds:
        block = model.block if self.block_threshold is None else self.block_threshold
        review = self.review_threshold
        if review is None:  # a block threshold below the model's review one empties review
            review = min(model.review, block)
        for label, value in (("review", review), ("block", block)):
            if not 0.0 <= value <= 1.0:
                raise BadInputError(f"the {label} threshold {value} is not in [0, 1]")
        if review > block:
            raise BadInputError(
                f"the review threshold {review:g} is above the block threshold {block:g}"
            )
        return Thresholds(review=review, block=block)


@dataclass
class GateReport:
    """Everything the renderers print; `to_json` is the versioned JSON document."""

    input: dict
    warehouse: dict
    model: dict
    thresholds: dict
    results: list[dict]
    generated_at: str
    fail_on: FailOn = "block"
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ACTIONS, 0)
        for r in self.results:
            counts[r["decision"]] += 1
        return counts

    @property
    def decision(self) -> str:
        counts = self.counts
        return "block" if counts["block"] else "review" if counts["review"] else "pass"

    def fails(self, decision: str) -> bool:
        return decision == "block" or (self.fail_on == "review" and decision == "review")

    @property
    def exit_code(self) -> int:
        return 1 if any(self.fails(r["decision"]) for r in self.results) else 0

    def to_json(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "generated_at": self.generated_at,
            "input": self.input,
            "warehouse": self.warehouse,
            "model": self.model,
            "thresholds": {**self.thresholds, "fail_on": self.fail_on},
            "results": self.results,
            "counts": self.counts,
            "decision": self.decision,
            "passed": self.exit_code == 0,
            "exit_code": self.exit_code,
        }


def _iso_dates(values: pd.Series) -> list[str | None]:
    dates = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
    return [None if pd.isna(d) else d for d in dates]


def score_candidates(mart: pd.DataFrame, model, thresholds: Thresholds) -> list[dict]:
    """Per candidate: the calibrated probability, the predicted error rate, the decision
    at `thresholds` and the top factors in words, in input order."""
    from ml.gate.reports import describe_factor
    from ml.modeling.features import FEATURES
    from ml.modeling.score import score_rows

    spec = model.spec
    missing = [col for col in spec.required_mart_columns if col not in mart.columns]
    if missing:
        raise EnvironmentFailure(
            f"model {model.version} needs column(s) the gate does not build: {', '.join(missing)}"
        )
    unknown_size = mart["package_size_kb"].isna()
    if "package_size_kb" in spec.required_mart_columns and unknown_size.any():
        raise BadInputError(
            f"row {mart['row'][unknown_size].iloc[0]}: model {model.version} uses the package "
            "size: give package_size_kb (or --package FILE with --git)"
        )
    unknown = [f for f in spec.features if f not in FEATURES]
    if unknown:
        raise EnvironmentFailure(
            f"model {model.version} needs feature(s) this code does not build: {', '.join(unknown)}"
        )
    scores = score_rows(mart, model, k=TOP_FACTORS, threads=-1)
    probability = np.asarray(scores.probability, dtype=float)
    if not np.isfinite(probability).all():
        raise EnvironmentFailure("the model returned a non-finite probability")
    decisions = decide(probability, thresholds).tolist()
    errors = np.asarray(scores.predicted_errors, dtype=float).round(3).tolist()
    rounded = probability.round(6).tolist()
    planned = _iso_dates(mart["release_date"])
    context = _iso_dates(mart["context_date"])
    rows = zip(
        mart["row"].tolist(),
        mart["release_id"].tolist(),
        mart["platform_id"].tolist(),
        mart["version"].tolist(),
        mart["patch_type"].tolist(),
        mart["is_after_as_of_date"].tolist(),
        strict=True,
    )
    results = []
    for i, (row, release_id, platform, version, patch_type, is_now) in enumerate(rows):
        results.append(
            {
                "row": int(row),
                "release_id": release_id,
                "platform_id": platform,
                "version": version,
                "patch_type": patch_type,
                "planned_release_date": planned[i],
                "context_date": context[i],
                "context": "now" if is_now else "as of the planned date",
                "decision": decisions[i],
                "regression_probability": rounded[i],
                "predicted_errors_per_10k_device_days": errors[i],
                "top_factors": [
                    {
                        **f.to_json(),
                        "text": describe_factor(f.feature, f.value, f.contribution),
                    }
                    for f in scores.factors[i]
                ],
            }
        )
    return results


def model_summary(model, name: str) -> dict:
    files = model.metadata.get("files", {})
    return {
        "name": name,
        "version": model.version,
        "sha256": files.get("classifier.cbm"),
        "files": files,
        "calibration": model.metadata.get("calibration", {}).get("method"),
        "training_data_fingerprint": model.metadata.get("training_data_fingerprint"),
    }


def run_gate(
    *,
    candidates: Candidates | None,
    release_ids: list[str] | None,
    duckdb_path: Path,
    registry_dir: Path | None,
    model_name: str = "champion",
    settings: GateSettings | None = None,
    backtest: bool = False,
    lock_timeout: float = 0.0,
) -> GateReport:
    """Read, score and decide; raises BadInputError / EnvironmentFailure."""
    settings = settings or GateSettings()
    started = time.perf_counter()
    model = load_model(registry_dir, model_name)
    thresholds = settings.thresholds(model.thresholds)
    loaded = time.perf_counter()
    with read_only_warehouse(duckdb_path, lock_timeout) as con:
        if candidates is not None:
            source, frame = candidates.source, candidates.frame
            input_info = {
                "source": candidates.source,
                "format": candidates.input_format,
                "sha256": candidates.sha256,
            }
            if candidates.facts is not None:
                input_info["git"] = candidates.facts
        else:
            source = "--release"
            frame = candidates_from_releases(con, list(release_ids or []))
            input_info = {"source": "warehouse releases", "format": "release_ids", "sha256": None}
            backtest = True
        mart = gate_mart(con, frame, source, backtest=backtest)
    read = time.perf_counter()
    now = datetime.now(UTC)
    results = score_candidates(mart, model, thresholds)
    scored = time.perf_counter()
    as_of = mart.attrs["as_of_date"]
    return GateReport(
        input={**input_info, "patches": len(results), "backtest": backtest},
        warehouse={
            "path": str(Path(duckdb_path).resolve()),
            "as_of_date": as_of.isoformat(),
            "now_context_date": (as_of + timedelta(days=1)).isoformat(),
        },
        model=model_summary(model, model_name),
        thresholds={
            "review": thresholds.review,
            "block": thresholds.block,
            "source": "model" if thresholds == model.thresholds else "override",
        },
        results=results,
        generated_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        fail_on=settings.fail_on,
        timings={
            "model_seconds": round(loaded - started, 4),
            "warehouse_seconds": round(read - loaded, 4),
            "score_seconds": round(scored - read, 4),
        },
    )
