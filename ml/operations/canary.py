"""Canary analysis: an anytime-valid sequential test of a release in rollout.

Every matched cohort-day (device model x region x day, from `marts.fct_canary_cohort_days`)
compares the new release's errors x with the previous firmware's errors y in the same cohort
on the same day. Given n = x + y, x ~ Binomial(n, pi(theta)) with
pi(theta) = theta r / (theta r + 1), r = new device-days / baseline device-days and theta the
error-rate ratio new / previous; the cohort's own error rate cancels out. The null is
theta <= theta0 (a tolerated margin: clean releases differ in quality too). The evidence is
a mixture likelihood ratio over a grid of theta > theta0: for every theta on the grid the
likelihood ratio against theta0 is a non-negative supermartingale under the null (the
binomial has a monotone likelihood ratio), so their prior-weighted mean e_t is too, and by
Ville's inequality P(e_t >= 1 / alpha for some day t) <= alpha. Looking every day, and
stopping at the first alarm, therefore keeps the false-alarm rate at most alpha.

The baseline is every older release the cohort runs that day, except one whose own canary
already called for a rollback (from the day after): a fleet would have rolled it back. Which
releases are left out is decided by earlier days only, so the test stays valid.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from scipy.stats import norm

# `estimate_theta0` (q = 0.9) on development world seed 101 gave 1.272; never the oracle.
DEFAULT_THETA0 = 1.27
DEFAULT_ALPHA = 0.05
DEFAULT_MIN_DEVICE_DAYS = 50.0
THETA0_QUANTILE = 0.9
MIN_THETA0_PAIRS = 30

CONTINUE, HOLD, ROLLBACK, INSUFFICIENT = "continue", "hold", "rollback", "insufficient data"
COHORT_COLUMNS = (
    "release_id",
    "device_model_id",
    "region",
    "days_since_release",
    "new_device_days",
    "new_error_count",
    "baseline_device_days",
    "baseline_error_count",
    "is_matched",
)
BASELINE_COLUMNS = (
    "release_id",
    "device_model_id",
    "region",
    "days_since_release",
    "activity_date",
    "baseline_release_id",
    "baseline_device_days",
    "baseline_error_count",
)


@dataclass(frozen=True)
class CanaryInputs:
    """Rows of the three canary marts (fct_canary_release_days, _cohort_days, _baseline_days)."""

    release_days: pd.DataFrame
    cohort_days: pd.DataFrame
    baseline_days: pd.DataFrame


@dataclass(frozen=True)
class CanaryConfig:
    """Test settings: null margin theta0, level alpha, exposure floor and the prior grid."""

    theta0: float = DEFAULT_THETA0
    alpha: float = DEFAULT_ALPHA
    min_device_days: float = DEFAULT_MIN_DEVICE_DAYS
    # prior: log-uniform over theta / theta0 in [lift_low, lift_high], grid_size points
    lift_low: float = 1.1
    lift_high: float = 8.0
    grid_size: int = 40

    def __post_init__(self) -> None:
        if not self.theta0 > 0:
            raise ValueError(f"theta0 must be > 0, got {self.theta0}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.min_device_days < 0:
            raise ValueError(f"min_device_days must be >= 0, got {self.min_device_days}")
        if not 1 < self.lift_low <= self.lift_high or self.grid_size < 1:
            raise ValueError("the prior grid needs 1 < lift_low <= lift_high and grid_size >= 1")

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Alternative rate ratios theta (all > theta0) and their log prior weights."""
        lifts = np.exp(np.linspace(np.log(self.lift_low), np.log(self.lift_high), self.grid_size))
        return self.theta0 * lifts, np.full(self.grid_size, -np.log(self.grid_size))


def log_likelihood_ratios(
    new_errors: np.ndarray,
    baseline_errors: np.ndarray,
    exposure_ratio: np.ndarray,
    theta0: float,
    thetas: np.ndarray,
) -> np.ndarray:
    """log LR(theta : theta0) per observation (rows) and theta (columns)."""
    x = np.asarray(new_errors, float)[:, None]
    y = np.asarray(baseline_errors, float)[:, None]
    r = np.asarray(exposure_ratio, float)[:, None]
    thetas = np.asarray(thetas, float)[None, :]
    # log pi(t) = -log1p(1 / (t r)); log(1 - pi(t)) = -log1p(t r)
    log_pi = np.log1p(1.0 / (theta0 * r)) - np.log1p(1.0 / (thetas * r))
    log_not_pi = np.log1p(theta0 * r) - np.log1p(thetas * r)
    return x * log_pi + y * log_not_pi


def log_e_values(
    group: np.ndarray,
    day: np.ndarray,
    new_errors: np.ndarray,
    baseline_errors: np.ndarray,
    exposure_ratio: np.ndarray,
    shape: tuple[int, int],
    config: CanaryConfig,
) -> np.ndarray:
    """log e-value of each sequence (rows) after each day (columns); 0 (e = 1) without data.

    Observation i belongs to sequence group[i] and day day[i]; shape = (sequences, days).
    """
    thetas, log_weights = config.grid()
    llr = log_likelihood_ratios(new_errors, baseline_errors, exposure_ratio, config.theta0, thetas)
    per_day = np.zeros((*shape, len(thetas)))
    np.add.at(per_day, (np.asarray(group, int), np.asarray(day, int)), llr)
    return logsumexp(np.cumsum(per_day, axis=1) + log_weights, axis=2)


def recommend(
    e_values: np.ndarray,
    cumulative_matched_device_days: np.ndarray,
    config: CanaryConfig,
    release: np.ndarray | None = None,
) -> np.ndarray:
    """Day-by-day recommendation, days in order (within each `release` when given).

    rollback once e has reached 1 / alpha on any day so far (the test stops there); else
    insufficient data before any matched exposure; hold while e >= 1 / sqrt(alpha) (evidence
    building) or matched exposure is below the floor; continue otherwise.
    """
    e = np.asarray(e_values, float)
    exposure = np.asarray(cumulative_matched_device_days, float)
    crossed = pd.Series(e >= 1.0 / config.alpha)
    alarmed = crossed.groupby(release).cummax() if release is not None else crossed.cummax()
    building = (e >= 1.0 / np.sqrt(config.alpha)) | (exposure < config.min_device_days)
    return np.select(
        [alarmed.to_numpy(), exposure <= 0, building],
        [ROLLBACK, INSUFFICIENT, HOLD],
        default=CONTINUE,
    ).astype(object)


def matched_cohort_days(cohort_days: pd.DataFrame) -> pd.DataFrame:
    """The cohort-days that enter the test, with the exposure ratio r."""
    matched = cohort_days.loc[cohort_days["is_matched"].astype(bool)]
    return matched.assign(
        exposure_ratio=matched["new_device_days"] / matched["baseline_device_days"]
    )


MATCHED_TOTALS = {
    "matched_new_device_days": "new_device_days",
    "matched_new_error_count": "new_error_count",
    "baseline_device_days": "baseline_device_days",
    "baseline_error_count": "baseline_error_count",
}


def with_matched_totals(release_days: pd.DataFrame, matched: pd.DataFrame) -> pd.DataFrame:
    """Release days with the matched totals, running totals, ratio and status recomputed from
    the cohort-days the test uses (the mart counts every older release as baseline)."""
    days = release_days.drop(
        columns=[*MATCHED_TOTALS, *(f"cumulative_{c}" for c in MATCHED_TOTALS)], errors="ignore"
    )
    keys = ["release_id", "days_since_release"]
    totals = matched.groupby(keys)[list(MATCHED_TOTALS.values())].sum()
    totals.columns = list(MATCHED_TOTALS)
    days = days.join(totals, on=keys).fillna(dict.fromkeys(MATCHED_TOTALS, 0))
    days = days.sort_values(keys).reset_index(drop=True)
    for column in MATCHED_TOTALS:
        days[column] = days[column].astype("int64")
        days[f"cumulative_{column}"] = days.groupby("release_id")[column].cumsum()
    new_rate = days["cumulative_matched_new_error_count"] / days[
        "cumulative_matched_new_device_days"
    ].where(lambda v: v > 0)
    base_rate = days["cumulative_baseline_error_count"] / days[
        "cumulative_baseline_device_days"
    ].where(lambda v: v > 0)
    days["cumulative_error_rate_ratio"] = new_rate / base_rate.where(lambda v: v > 0)
    days["unmatched_new_device_days"] = days["new_device_days"] - days["matched_new_device_days"]
    days["unmatched_new_error_count"] = days["new_error_count"] - days["matched_new_error_count"]
    not_yet = (days["comparison_status"] == "matched") & (
        days["cumulative_matched_new_device_days"] == 0
    )
    days.loc[not_yet, "comparison_status"] = "no_matched_baseline"
    return days


def score_release_days(
    release_days: pd.DataFrame, cohort_days: pd.DataFrame, config: CanaryConfig
) -> pd.DataFrame:
    """Release days with `e_value` and `recommendation` added, for any number of releases.

    `release_days` has the columns of marts.fct_canary_release_days, `cohort_days` at least
    COHORT_COLUMNS of marts.fct_canary_cohort_days; the matched totals are recomputed from
    `cohort_days`. A release without matched exposure gets e = 1 and `insufficient data`.
    """
    releases = pd.Index(release_days["release_id"].unique())
    matched = matched_cohort_days(cohort_days)
    matched = matched.loc[matched["release_id"].isin(releases)]
    days = with_matched_totals(release_days, matched)
    n_days = int(days["days_since_release"].max()) + 1 if len(days) else 1
    log_e = log_e_values(
        releases.get_indexer(matched["release_id"]),
        matched["days_since_release"].to_numpy(),
        matched["new_error_count"].to_numpy(),
        matched["baseline_error_count"].to_numpy(),
        matched["exposure_ratio"].to_numpy(),
        (len(releases), n_days),
        config,
    )
    rows = releases.get_indexer(days["release_id"])
    days["e_value"] = np.exp(np.minimum(log_e[rows, days["days_since_release"].to_numpy()], 700.0))
    days["recommendation"] = recommend(
        days["e_value"].to_numpy(),
        days["cumulative_matched_new_device_days"].to_numpy(),
        config,
        release=days["release_id"].to_numpy(),
    )
    days.loc[days["comparison_status"] != "matched", "recommendation"] = INSUFFICIENT
    return days


COHORT_KEYS = ["release_id", "device_model_id", "region", "days_since_release"]


def rollback_dates(scored_days: pd.DataFrame) -> pd.Series:
    """Per release, the day its canary first called for a rollback (absent when never)."""
    alarms = scored_days.loc[scored_days["recommendation"] == ROLLBACK]
    return alarms.groupby("release_id")["activity_date"].min().sort_index()


def compose_cohort_days(
    cohort_days: pd.DataFrame, baseline_days: pd.DataFrame, rollbacks: pd.Series
) -> pd.DataFrame:
    """cohort_days with the baseline summed from `baseline_days` (fct_canary_baseline_days),
    leaving out an older release from the day after its rollback date in `rollbacks`."""
    rolled_back = rollbacks.reindex(baseline_days["baseline_release_id"]).to_numpy()
    kept = baseline_days.loc[~(rolled_back < baseline_days["activity_date"])]
    sums = kept.groupby(COHORT_KEYS)[["baseline_device_days", "baseline_error_count"]].sum()
    composed = cohort_days.drop(columns=list(sums.columns), errors="ignore").join(
        sums, on=COHORT_KEYS
    )
    composed[list(sums.columns)] = composed[list(sums.columns)].fillna(0).astype("int64")
    composed["is_matched"] = (composed["new_device_days"] > 0) & (
        composed["baseline_device_days"] > 0
    )
    return composed


def score_with_rollbacks(inputs: CanaryInputs, config: CanaryConfig) -> pd.DataFrame:
    """score_release_days where a release whose canary called for a rollback is no baseline
    from the next day on, as if it had been rolled back.

    A release's test depends only on older releases' rollbacks on earlier days, so iterating
    from "no rollbacks" settles at most one release deeper per round: the fixed point is
    reached within (releases + 1) rounds, in practice in 3-5.
    """
    rollbacks = pd.Series(dtype=inputs.release_days["activity_date"].dtype)
    for _ in range(inputs.release_days["release_id"].nunique() + 1):
        composed = compose_cohort_days(inputs.cohort_days, inputs.baseline_days, rollbacks)
        days = score_release_days(inputs.release_days, composed, config)
        found = rollback_dates(days)
        if found.index.equals(rollbacks.index) and (found == rollbacks).all():
            return days
        rollbacks = found
    raise RuntimeError("the canary rollbacks did not settle")  # unreachable, see docstring


# ---- choosing theta0 on history (telemetry labels only, never the oracle) -----------------
@dataclass(frozen=True)
class Theta0Estimate:
    """The tolerated rate ratio estimated from consecutive clean releases."""

    theta0: float
    pairs: int
    median_ratio: float
    between_release_sd: float
    quantile: float


def estimate_theta0(
    outcomes: pd.DataFrame, quantile: float = THETA0_QUANTILE
) -> Theta0Estimate | None:
    """The `quantile` of clean releases' release-to-release error-rate ratio, noise removed.

    Uses marts.fct_release_outcomes: pairs (release, its previous release) that the telemetry
    label calls non-regressing; the log ratio of their window error rates has variance
    (true quality spread)^2 + Poisson noise (1 / errors of each), so the spread is
    sqrt(var - mean noise). theta0 = exp(median log ratio + z_quantile x spread). None with
    fewer than MIN_THETA0_PAIRS pairs.
    """
    clean = outcomes.loc[outcomes["is_regression"].eq(False)].set_index("release_id")
    pairs = clean.join(
        clean[["window_error_count"]].rename(columns={"window_error_count": "previous_errors"}),
        on="previous_release_id",
        how="inner",
    )
    pairs = pairs.loc[
        (pairs["window_error_count"] > 0)
        & (pairs["previous_errors"] > 0)
        & (pairs["errors_rate_ratio_to_previous_release"] > 0)
    ]
    if len(pairs) < MIN_THETA0_PAIRS:
        return None
    log_ratio = np.log(pairs["errors_rate_ratio_to_previous_release"].astype(float))
    noise = (1.0 / pairs["window_error_count"] + 1.0 / pairs["previous_errors"]).mean()
    spread = float(np.sqrt(max(log_ratio.var() - noise, 0.0)))
    center = float(log_ratio.median())
    return Theta0Estimate(
        theta0=float(np.exp(center + norm.ppf(quantile) * spread)),
        pairs=len(pairs),
        median_ratio=float(np.exp(center)),
        between_release_sd=spread,
        quantile=quantile,
    )


# ---- one release ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CanaryReport:
    """The canary of one release: its days and the recommendation on the latest day."""

    release_id: str
    platform_id: str
    previous_release_id: str | None
    comparison_status: str
    recommendation: str
    alarm_day: int | None
    days: pd.DataFrame
    config: CanaryConfig

    def to_json(self) -> dict:
        """JSON-ready dict (days as a list of records)."""
        columns = list(DAY_COLUMNS)
        frame = self.days.loc[:, columns].assign(
            activity_date=pd.to_datetime(self.days["activity_date"]).dt.strftime("%Y-%m-%d")
        )
        records = frame.astype(object).where(frame.notna(), None)
        return {
            "release_id": self.release_id,
            "platform_id": self.platform_id,
            "previous_release_id": self.previous_release_id,
            "comparison_status": self.comparison_status,
            "recommendation": self.recommendation,
            "alarm_day": self.alarm_day,
            "config": asdict(self.config),
            "days": records.to_dict("records"),
        }


DAY_COLUMNS = (
    "days_since_release",
    "activity_date",
    "cumulative_new_device_days",
    "cumulative_matched_new_device_days",
    "cumulative_matched_new_error_count",
    "cumulative_baseline_device_days",
    "cumulative_baseline_error_count",
    "unmatched_new_device_days",
    "cumulative_error_rate_ratio",
    "e_value",
    "recommendation",
)


def alarm_days(scored_days: pd.DataFrame) -> pd.Series:
    """First day with a rollback per release (releases that never alarm are absent)."""
    alarms = scored_days.loc[scored_days["recommendation"] == ROLLBACK]
    return alarms.groupby("release_id")["days_since_release"].min()


def analyse_release(inputs: CanaryInputs, release_id: str, config: CanaryConfig) -> CanaryReport:
    """The canary of `release_id`; `inputs` must hold its platform's older releases too."""
    scored = score_with_rollbacks(inputs, config)
    days = scored.loc[scored["release_id"] == release_id].reset_index(drop=True)
    if days.empty:
        raise ValueError(f"no canary days for {release_id}")
    last = days.iloc[-1]
    alarm = alarm_days(days)
    previous = last["previous_release_id"]
    return CanaryReport(
        release_id=str(last["release_id"]),
        platform_id=str(last["platform_id"]),
        previous_release_id=None if pd.isna(previous) else str(previous),
        comparison_status=str(last["comparison_status"]),
        recommendation=str(last["recommendation"]),
        alarm_day=int(alarm.iloc[0]) if len(alarm) else None,
        days=days,
        config=config,
    )


# ---- evaluation on history against the generator's truth -----------------------------------
@dataclass(frozen=True)
class CanaryEvaluation:
    """False alarms on clean releases and detection delay on true regressions."""

    config: CanaryConfig
    canary_days: int
    releases: int
    clean_evaluated: int
    false_alarms: int
    regressions_evaluated: int
    detected: int
    median_delay_days: float | None
    p90_delay_days: float | None
    excluded: dict[str, int]
    # detected / evaluated true regressions, by whether the previous release truly regressed
    detection_by_previous_release: dict[str, list[int]] = field(default_factory=dict)
    theta0_estimate: Theta0Estimate | None = None
    per_release: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def false_alarm_rate(self) -> float | None:
        return self.false_alarms / self.clean_evaluated if self.clean_evaluated else None

    @property
    def detection_rate(self) -> float | None:
        return self.detected / self.regressions_evaluated if self.regressions_evaluated else None

    def as_dict(self) -> dict:
        """JSON-ready summary."""
        summary = {k: v for k, v in asdict(self).items() if k != "per_release"}
        summary["false_alarm_rate"] = self.false_alarm_rate
        summary["detection_rate"] = self.detection_rate
        return summary


def exclusion_reasons(scored_days: pd.DataFrame, truth: pd.Series, canary_days: int) -> pd.Series:
    """Per release: why it is left out of the evaluation (None = evaluated)."""
    last = scored_days.groupby("release_id").agg(
        status=("comparison_status", "last"), observed=("days_since_release", "size")
    )
    reason = pd.Series(None, index=last.index, dtype=object)
    reason[last["status"] != "matched"] = last["status"]
    reason[reason.isna() & (last["observed"] < canary_days)] = "canary_window_open"
    reason[reason.isna() & ~last.index.isin(truth.index)] = "not_in_oracle"
    return reason


def evaluate_history(
    inputs: CanaryInputs, oracle: pd.DataFrame, config: CanaryConfig
) -> CanaryEvaluation:
    """Run the canary day by day over every release's first days and score it with the truth.

    A release counts when its canary window (all days of fct_canary_release_days) has closed
    and it had a matched baseline; the others are counted per reason in `excluded`. A false
    alarm is a rollback on a clean release (oracle is_true_regression false) on any day; the
    delay of a detected regression is the day of its first rollback (0 = rollout day).
    """
    days = score_with_rollbacks(inputs, config)
    canary_days = int(days["days_since_release"].max()) + 1 if len(days) else 0
    truth = oracle.set_index("release_id")["is_true_regression"].astype(bool)
    reasons = exclusion_reasons(days, truth, canary_days)
    per_release = pd.DataFrame({"exclusion_reason": reasons})
    per_release["is_true_regression"] = truth.reindex(per_release.index)
    per_release["alarm_day"] = alarm_days(days).reindex(per_release.index)
    per_release["final_e_value"] = days.groupby("release_id")["e_value"].last()
    previous = days.groupby("release_id")["previous_release_id"].first()
    per_release["is_previous_true_regression"] = previous.map(truth).reindex(per_release.index)
    evaluated = per_release.loc[per_release["exclusion_reason"].isna()]
    clean = evaluated.loc[~evaluated["is_true_regression"].astype(bool)]
    regressions = evaluated.loc[evaluated["is_true_regression"].astype(bool)]
    delays = regressions["alarm_day"].dropna()
    return CanaryEvaluation(
        config=config,
        canary_days=canary_days,
        releases=len(per_release),
        clean_evaluated=len(clean),
        false_alarms=int(clean["alarm_day"].notna().sum()),
        regressions_evaluated=len(regressions),
        detected=len(delays),
        median_delay_days=float(delays.median()) if len(delays) else None,
        p90_delay_days=float(delays.quantile(0.9)) if len(delays) else None,
        excluded={str(k): int(v) for k, v in reasons.value_counts().items()},
        detection_by_previous_release={
            "previous clean" if not flag else "previous regressed": [
                int(group["alarm_day"].notna().sum()),
                len(group),
            ]
            for flag, group in regressions.groupby(
                regressions["is_previous_true_regression"].astype(bool)
            )
        },
        per_release=per_release.reset_index(names="release_id"),
    )


# ---- warehouse I/O --------------------------------------------------------------------------
EVALUATION_TABLE = "canary_evaluation"  # in schema ml (ml.warehouse.ML_SCHEMA)
EVALUATION_COLUMNS = (
    ("release_id", "varchar"),
    ("exclusion_reason", "varchar"),
    ("is_true_regression", "boolean"),
    ("alarm_day", "integer"),
    ("final_e_value", "double"),
    ("theta0", "double"),
    ("alpha", "double"),
    ("canary_days", "integer"),
    ("evaluated_at", "timestamp"),
)


def read_canary_inputs(
    duckdb_path: Path, release_id: str | None = None, lock_timeout: float = 0.0
) -> CanaryInputs:
    """The canary marts' rows: of the platform of `release_id` (its baselines' own canaries
    decide their rollbacks), or of every release when release_id is None."""
    from ml.warehouse.readers import read_only_warehouse

    where, params = "", []
    if release_id:
        where = (
            "where platform_id = (select any_value(platform_id) "
            "from marts.fct_canary_release_days where release_id = ?)"
        )
        params = [release_id]
    with read_only_warehouse(duckdb_path, lock_timeout, reader="the canary") as con:

        def read(relation: str, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
            selected = ", ".join(columns) if columns else "*"
            return con.execute(f"select {selected} from marts.{relation} {where}", params).df()

        return CanaryInputs(
            release_days=read("fct_canary_release_days"),
            cohort_days=read("fct_canary_cohort_days", COHORT_COLUMNS),
            baseline_days=read("fct_canary_baseline_days", BASELINE_COLUMNS),
        )


def read_release_outcomes(duckdb_path: Path, lock_timeout: float = 0.0) -> pd.DataFrame:
    """marts.fct_release_outcomes (for estimate_theta0)."""
    from ml.warehouse.readers import read_only_warehouse

    with read_only_warehouse(duckdb_path, lock_timeout, reader="the canary") as con:
        return con.execute("select * from marts.fct_release_outcomes").df()


def write_evaluation(duckdb_path: Path, evaluation: CanaryEvaluation) -> int:
    """Replace ml.canary_evaluation (one row per release); returns its rows."""
    from ml.warehouse.dbt import write_ml_tables

    frame = evaluation.per_release.assign(
        theta0=evaluation.config.theta0,
        alpha=evaluation.config.alpha,
        canary_days=evaluation.canary_days,
        evaluated_at=pd.Timestamp.now(tz="UTC").tz_localize(None),
    )
    rows = write_ml_tables(duckdb_path, {EVALUATION_TABLE: (frame, EVALUATION_COLUMNS)})
    return rows[EVALUATION_TABLE]
