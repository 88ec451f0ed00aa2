"""Has the world moved away from what the champion was trained on?

`detect_drift` compares the newest releases (the window) with the champion's training
reference (the releases of its train and validation date range) in three ways:

- **features**: one two-sample test per model feature - Kolmogorov-Smirnov for windows
  under `large_window` releases, Wasserstein distance (standardised) from there on, a
  chi-squared statistic for categorical features. Every statistic's threshold comes from
  a permutation test at this window size, so binary and tied features are calibrated too.
  numpy computes each statistic for all permutations at once (KS: ~4x faster than one scipy
  call per permutation); a test checks them against scipy's ks_2samp,
  wasserstein_distance and chi2_contingency.
- **predictions**: the same test on the champion's calibrated probabilities.
- **performance** on the window's labelled releases (never training rows), each against
  the champion's validation slice, whose own uncertainty counts too: ROC-AUC (two-sample
  stratified bootstrap of the difference, one-sided, with a tolerated `auc_margin`) and
  calibration-in-the-large (log observed/expected against the same ratio on the slice,
  simulated null, with a tolerated shift of a factor `calibration_margin` on the odds).
  Even in a stable world the fleet ages past the champion's training data, and its later
  windows hold up to ~1.6x the regressions it expects: the tolerance keeps that slow
  decay, at ~10 regressions per window, from reading as a change of world.

Two levels. The **alarm** (`drifted`, a retrain trigger) asks whether the model no longer
fits: a category it never saw or saw in other proportions (the platform), a shift of its
own predictions with the fleet context held at the reference's medians (each patch
feature weighed by how much the model uses it), or its ROC-AUC or calibration failing on
newly labelled releases. A shift of one numeric patch feature alone is a **warning**:
the prediction check already counts it as far as the model cares, and the performance
checks tell whether the model copes. Each level's p-values go through Holm's step-down
correction, so a window raises a false alarm (or warning) with probability <= alpha
however many checks there are.

Features of the platform's history and fleet (fleet age, recent regressions, the
previous release's errors) and the raw predictions are reported only: the fleet ages
and regresses more often in every world, drifted or not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from ml.errors import BadInputError
from ml.modeling.evaluate import fast_auc
from ml.modeling.features import build_features, check_columns
from ml.modeling.predict import predict_raw_probability
from ml.modeling.registry import LoadedModel

# Features of the platform's history and fleet rather than of the patch: they follow the
# fleet's ageing (older fleets regress more often) in every world.
CONTEXT_FEATURES = (
    "platform_avg_device_age_years",
    "platform_recent_regression_rate",
    "is_latest_labelled_release_regression",
    "rushed_after_regression",
    "log_previous_release_error_ratio",
    "rushed_after_error_rise",
)
TRENDS_BY_DESIGN = "fleet-context feature that trends by design: reported only"
WARNING = "patch feature: a warning; the model-weighted prediction check votes for it"


@dataclass(frozen=True)
class DriftConfig:
    """Window size, error rate and test settings of one drift check."""

    window: int = 100  # newest releases after the reference
    alpha: float = 0.05  # family-wise false-alarm rate per window (Holm)
    permutations: int = 999
    large_window: int = 500  # from this window size on: Wasserstein instead of KS
    min_reference: int = 100
    min_window: int = 30
    min_labelled: int = 30  # labelled window releases needed for the performance checks
    auc_margin: float = 0.05  # tolerated ROC-AUC drop below the champion's validation
    calibration_margin: float = 1.5  # tolerated calibration shift: a factor on the odds
    seed: int = 20240101


@dataclass(frozen=True)
class Check:
    """One test: what was compared, how, and what it says."""

    name: str
    kind: str  # feature | prediction | performance | calibration
    method: str
    statistic: float
    p_value: float
    votes: bool  # alarm level; a non-voting check with a detail of WARNING is a warning
    adjusted_p_value: float | None = None  # Holm, within the check's level
    drifted: bool = False  # adjusted p <= alpha (an alarm when voting, else a warning)
    detail: str = ""


@dataclass(frozen=True)
class DriftReport:
    """The verdict for one window, with every check behind it."""

    model_version: str
    reference_start: str
    reference_end: str
    reference_rows: int
    window_start: str
    window_end: str
    window_rows: int
    window_labelled_rows: int
    alpha: float
    drifted: bool  # any voting check drifted: the alarm
    warnings: list[str] = field(default_factory=list)  # drifted warning-level checks
    checks: list[Check] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def permuted_masks(n_ref: int, n_win: int, permutations: int, rng) -> np.ndarray:
    """Window-membership masks: row 0 the observed split, then `permutations` shuffles."""
    observed = np.r_[np.zeros(n_ref, bool), np.ones(n_win, bool)]
    shuffled = rng.permuted(np.tile(observed, (permutations, 1)), axis=1)
    return np.vstack([observed, shuffled])


def ecdf_statistics(values: np.ndarray, in_window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kolmogorov-Smirnov and Wasserstein-1 distances between the reference and window
    parts of `values`, for every row of the membership masks `in_window` at once."""
    order = np.argsort(values, kind="stable")
    v = values[order]
    win = in_window[:, order]
    n_win = win.sum(axis=1, keepdims=True)
    cdf_win = np.cumsum(win, axis=1) / n_win
    cdf_ref = np.cumsum(~win, axis=1) / (len(values) - n_win)
    diff = np.abs(cdf_ref - cdf_win)
    block_end = np.r_[v[1:] != v[:-1], True]  # evaluate ties once, after the last of them
    ks = diff[:, block_end].max(axis=1)
    w1 = (diff[:, :-1] * np.diff(v)).sum(axis=1)
    return ks, w1


def chi2_statistics(codes: np.ndarray, in_window: np.ndarray) -> np.ndarray:
    """Pearson chi-squared of the 2 x categories table (reference / window), per mask row."""
    onehot = np.eye(codes.max() + 1)[codes]
    win = in_window.astype(float) @ onehot
    ref = onehot.sum(axis=0) - win
    total = onehot.sum(axis=0)
    n_win = win.sum(axis=1, keepdims=True)
    n = len(codes)
    expected_win = n_win * total / n
    expected_ref = (n - n_win) * total / n
    return (((win - expected_win) ** 2) / expected_win).sum(axis=1) + (
        ((ref - expected_ref) ** 2) / expected_ref
    ).sum(axis=1)


def permutation_p_value(statistics: np.ndarray) -> float:
    """P-value of statistics[0] (observed) among the permuted statistics[1:]."""
    exceed = np.sum(statistics[1:] >= statistics[0] - 1e-12)
    return float((exceed + 1) / len(statistics))


def holm(p_values: list[float]) -> list[float]:
    """Holm step-down adjusted p-values (controls the family-wise error rate)."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted.tolist()


def _distribution_check(
    name: str,
    kind: str,
    ref: pd.Series,
    win: pd.Series,
    categorical: bool,
    config: DriftConfig,
    rng: np.random.Generator,
    not_voting_because: str = "",
) -> Check:
    """Permutation-calibrated two-sample test of one column (nulls left out)."""
    a, b = ref.dropna(), win.dropna()
    masks = permuted_masks(len(a), len(b), config.permutations, rng)
    if categorical:
        _, codes = np.unique(np.r_[a.astype(str), b.astype(str)], return_inverse=True)
        method, stats = "chi-squared (permutation)", chi2_statistics(codes, masks)
    else:
        values = np.r_[a.to_numpy(float), b.to_numpy(float)]
        ks, w1 = ecdf_statistics(values, masks)
        if len(b) >= config.large_window:
            method, stats = "Wasserstein (permutation)", w1 / (np.std(values) or 1.0)
        else:
            method, stats = "Kolmogorov-Smirnov (permutation)", ks
    p_value = permutation_p_value(stats)
    votes = not not_voting_because
    return Check(name, kind, method, float(stats[0]), p_value, votes, detail=not_voting_because)


def calibration_shift_p_value(
    p_win: np.ndarray,
    y_win: np.ndarray,
    p_val: np.ndarray,
    y_val: np.ndarray,
    margin: float,
    simulations: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """Has calibration-in-the-large moved by more than a factor `margin` on the odds between
    the champion's validation slice (where its calibrator was fitted) and the window? The
    statistic is the difference of the two log(observed / expected) ratios. Its null
    distribution is simulated with labels drawn from the predicted probabilities, the
    window's odds multiplied by exactly `margin` (then divided: the boundaries of the
    tolerated shifts), so small counts and the calibrator's own estimation error are
    accounted for. Returns the statistic and its two-sided p-value (margin 1: no tolerance)."""

    def log_ratio(observed, p: np.ndarray):
        return np.log((observed + 0.5) / (p.sum() + 0.5))

    def simulate(p: np.ndarray) -> np.ndarray:
        return (rng.random((simulations, len(p))) < p).sum(axis=1)

    def odds_times(p: np.ndarray, factor: float) -> np.ndarray:
        return p * factor / (p * factor + 1 - p)

    observed = log_ratio(y_win.sum(), p_win) - log_ratio(y_val.sum(), p_val)
    tails = []
    for sign in (1, -1):
        null = log_ratio(simulate(odds_times(p_win, margin**sign)), p_win) - log_ratio(
            simulate(p_val), p_val
        )
        tails.append(np.sum(sign * (null - observed) >= -1e-12))
    return float(observed), float(min(1.0, 2 * (min(tails) + 1) / (simulations + 1)))


def bootstrap_aucs(
    p: np.ndarray, y: np.ndarray, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """ROC-AUCs of `resamples` stratified bootstrap resamples (positives and negatives each
    drawn with replacement, so every resample has both classes, as pROC does). Each resample
    is a vector of counts; a positive's share of negatives ranked below it (ties one half)
    comes from the counts' cumulative sums, so memory grows with the sample, not its square."""
    pos, neg = np.sort(p[y == 1]), np.sort(p[y == 0])
    n1, n0 = len(pos), len(neg)
    c_pos = rng.multinomial(n1, np.full(n1, 1 / n1), size=resamples)
    c_neg = rng.multinomial(n0, np.full(n0, 1 / n0), size=resamples)
    cum = np.c_[np.zeros(resamples), np.cumsum(c_neg, axis=1)]
    less = cum[:, np.searchsorted(neg, pos, "left")]
    less_or_tied = cum[:, np.searchsorted(neg, pos, "right")]
    below = (less + less_or_tied) / 2
    return (c_pos * below).sum(axis=1) / (n1 * n0)


def auc_shift_p_value(
    p_win: np.ndarray,
    y_win: np.ndarray,
    p_val: np.ndarray,
    y_val: np.ndarray,
    margin: float,
    resamples: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """Has the ROC-AUC dropped more than `margin` below the champion's validation ROC-AUC?
    Both ROC-AUCs are estimates (a validation slice has only ~20-30 regressions), so the
    difference window - validation is bootstrapped from both samples independently (an
    unpaired two-sample test, as pROC's roc.test). Returns the difference and the one-sided
    percentile-bootstrap p-value of H0: difference >= -margin."""
    difference = fast_auc(y_win, p_win) - fast_auc(y_val, p_val)
    boot = bootstrap_aucs(p_win, y_win, resamples, rng) - bootstrap_aucs(
        p_val, y_val, resamples, rng
    )
    p_value = (np.sum(boot >= -margin - 1e-12) + 1) / (resamples + 1)
    return float(difference), float(p_value)


def _performance_checks(
    p_win: np.ndarray,
    y_win: np.ndarray,
    p_val: np.ndarray,
    y_val: np.ndarray,
    config: DriftConfig,
    rng: np.random.Generator,
) -> list[Check]:
    """ROC-AUC and calibration-in-the-large, each against the champion's validation slice
    (the same releases and predictions for both), counting the slice's own uncertainty."""
    auc, auc_validation = fast_auc(y_win, p_win), fast_auc(y_val, p_val)
    _, p_auc = auc_shift_p_value(
        p_win, y_win, p_val, y_val, config.auc_margin, config.permutations, rng
    )
    shift, p_calibration = calibration_shift_p_value(
        p_win, y_win, p_val, y_val, config.calibration_margin, config.permutations, rng
    )
    return [
        Check(
            "roc_auc",
            "performance",
            "two-sample bootstrap vs validation, one-sided",
            auc,
            p_auc,
            True,
            detail=(
                f"validation ROC-AUC {auc_validation:.3f} ({y_val.sum():.0f} regressions), "
                f"tolerated drop {config.auc_margin}"
            ),
        ),
        Check(
            "calibration_in_the_large",
            "calibration",
            "log observed/expected vs validation, simulated",
            shift,
            p_calibration,
            True,
            detail=(
                f"{y_win.sum():.0f} regressions observed, {p_win.sum():.1f} expected "
                f"(validation: {y_val.sum():.0f}, {p_val.sum():.1f}), tolerated shift a factor "
                f"{config.calibration_margin} on the odds"
            ),
        ),
    ]


def _labels(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Mask of labelled rows and their 0/1 labels."""
    mask = frame["is_label_available"].astype("boolean").fillna(False).to_numpy(bool)
    return mask, frame.loc[mask, "is_regression"].astype(bool).to_numpy().astype(int)


def detect_drift(
    mart: pd.DataFrame, model: LoadedModel, config: DriftConfig | None = None
) -> DriftReport:
    """Compare the newest `window` releases after the champion's training data with its
    training reference. Raises BadInputError for too little data or a missing feature."""
    config = config or DriftConfig()
    spec = model.spec
    check_columns(mart, (*spec.required_mart_columns, "is_label_available", "is_regression"))
    splits = model.metadata["splits"]
    start, end = splits["train"]["release_date_min"], splits["validation"]["release_date_max"]
    dates = pd.to_datetime(mart["release_date"])
    reference = mart[(dates >= start) & (dates <= end)]
    if len(reference) < config.min_reference:
        raise BadInputError(
            f"the champion's reference ({start}..{end}) has {len(reference)} releases in the "
            f"mart (need >= {config.min_reference})"
        )
    after = mart[dates > end].sort_values(["release_date", "release_id"], kind="stable")
    window = after.tail(config.window)
    if len(window) < config.min_window:
        raise BadInputError(
            f"{len(after)} releases after the champion's training data (up to {end}); "
            f"need >= {config.min_window}"
        )
    x_ref, x_win = build_features(reference), build_features(window)
    empty = [f for f in spec.features if x_win[f].isna().all()]
    if empty:
        raise BadInputError(f"feature(s) entirely missing in the window: {', '.join(empty)}")

    rng = np.random.default_rng(config.seed)
    checks = [
        _distribution_check(
            f,
            "feature",
            x_ref[f],
            x_win[f],
            f in spec.categorical,
            config,
            rng,
            TRENDS_BY_DESIGN
            if f in CONTEXT_FEATURES
            else ("" if f in spec.categorical else WARNING),
        )
        for f in spec.features
    ]

    def predict(x: pd.DataFrame) -> pd.Series:
        raw = predict_raw_probability(model.classifier, model.linear_base, x, spec)
        return pd.Series(model.calibrator.apply(raw))

    # The fleet context moves every world's predictions; holding it at the reference's
    # medians leaves the change in what is being released.
    context = {f: x_ref[f].median() for f in CONTEXT_FEATURES if f in spec.features}
    p_win = predict(x_win).to_numpy()
    checks += [
        _distribution_check(
            "regression_probability",
            "prediction",
            predict(x_ref),
            pd.Series(p_win),
            False,
            config,
            rng,
            "includes the fleet-context trend: reported only",
        ),
        _distribution_check(
            "regression_probability_at_reference_context",
            "prediction",
            predict(x_ref.assign(**context)),
            predict(x_win.assign(**context)),
            False,
            config,
            rng,
        ),
    ]
    labelled, y_win = _labels(window)
    if labelled.sum() >= config.min_labelled and 0 < y_win.sum() < len(y_win):
        validation = reference[
            pd.to_datetime(reference["release_date"])
            >= pd.Timestamp(splits["validation"]["release_date_min"])
        ]
        v_mask, y_val = _labels(validation)
        if 0 < y_val.sum() < len(y_val):
            p_val = predict(build_features(validation[v_mask])).to_numpy()
            checks += _performance_checks(p_win[labelled], y_win, p_val, y_val, config, rng)

    for level in (lambda c: c.votes, lambda c: c.detail == WARNING):
        members = [i for i, c in enumerate(checks) if level(c)]
        adjusted = holm([checks[i].p_value for i in members])
        for i, adj in zip(members, adjusted, strict=True):
            checks[i] = Check(
                **{**asdict(checks[i]), "adjusted_p_value": adj, "drifted": adj <= config.alpha}
            )
    window_dates = pd.to_datetime(window["release_date"])
    return DriftReport(
        model_version=model.version,
        reference_start=start,
        reference_end=end,
        reference_rows=len(reference),
        window_start=str(window_dates.min().date()),
        window_end=str(window_dates.max().date()),
        window_rows=len(window),
        window_labelled_rows=int(labelled.sum()),
        alpha=config.alpha,
        drifted=any(c.drifted and c.votes for c in checks),
        warnings=[c.name for c in checks if c.drifted and not c.votes],
        checks=checks,
    )


# ml.drift_history: one row per check per run, appended by `patchrisk drift`.
DRIFT_HISTORY_TABLE = "drift_history"
DRIFT_HISTORY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("checked_at", "timestamp"),
    ("model_version", "varchar"),
    ("window_start_date", "date"),
    ("window_end_date", "date"),
    ("reference_rows", "integer"),
    ("window_rows", "integer"),
    ("window_labelled_rows", "integer"),
    ("check_name", "varchar"),
    ("check_kind", "varchar"),
    ("test_method", "varchar"),
    ("statistic", "double"),
    ("p_value", "double"),
    ("adjusted_p_value", "double"),
    ("is_voting", "boolean"),
    ("is_drifted", "boolean"),
    ("is_window_drifted", "boolean"),
)


def run_key(now: datetime, latest: datetime | None) -> datetime:
    """A run's `checked_at`, its key in ml.drift_history: the time to the microsecond, and
    later than the latest recorded run, so no two runs share a key (two runs within one
    clock tick, or a clock set back)."""
    if latest is None or now > latest:
        return now
    return latest + timedelta(microseconds=1)


def history_rows(report: DriftReport, checked_at) -> pd.DataFrame:
    """The report as ml.drift_history rows (naive UTC `checked_at`)."""
    rows = [
        {
            "checked_at": checked_at,
            "model_version": report.model_version,
            "window_start_date": report.window_start,
            "window_end_date": report.window_end,
            "reference_rows": report.reference_rows,
            "window_rows": report.window_rows,
            "window_labelled_rows": report.window_labelled_rows,
            "check_name": c.name,
            "check_kind": c.kind,
            "test_method": c.method,
            "statistic": c.statistic,
            "p_value": c.p_value,
            "adjusted_p_value": c.adjusted_p_value,
            "is_voting": c.votes,
            "is_drifted": c.drifted,
            "is_window_drifted": report.drifted,
        }
        for c in report.checks
    ]
    return pd.DataFrame(rows, columns=[c for c, _ in DRIFT_HISTORY_COLUMNS])
