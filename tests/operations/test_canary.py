"""The canary's e-process, recommendation rule, theta0 estimate and history evaluation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, norm

from ml.operations.canary import (
    CONTINUE,
    HOLD,
    INSUFFICIENT,
    ROLLBACK,
    CanaryConfig,
    compose_cohort_days,
    estimate_theta0,
    evaluate_history,
    log_e_values,
    log_likelihood_ratios,
    read_canary_inputs,
    recommend,
    rollback_dates,
    score_release_days,
    score_with_rollbacks,
)
from ml.warehouse.marts import read_oracle

CONFIG = CanaryConfig()


@dataclass(frozen=True)
class Simulated:
    """Matched cohort-days of simulated canaries: sequence, day, errors and exposure ratio."""

    group: np.ndarray
    day: np.ndarray
    x: np.ndarray
    y: np.ndarray
    r: np.ndarray
    shape: tuple[int, int]

    def log_e(self) -> np.ndarray:
        return log_e_values(self.group, self.day, self.x, self.y, self.r, self.shape, CONFIG)


def _simulate(theta: float, sequences: int, days: int, seed: int) -> Simulated:
    """Canaries whose true rate ratio is `theta`: each day 1-6 cohorts with random exposure
    ratios and error rates; errors on the new and the previous firmware are Poisson."""
    rng = np.random.default_rng(seed)
    cohorts = rng.integers(1, 7, size=(sequences, days))
    group = np.repeat(np.repeat(np.arange(sequences), days), cohorts.ravel())
    day = np.repeat(np.tile(np.arange(days), sequences), cohorts.ravel())
    n = len(group)
    new_days = rng.uniform(5, 500, n)
    base_days = rng.uniform(50, 3000, n)
    rate = rng.uniform(0.01, 0.1, n)
    x = rng.poisson(theta * rate * new_days)
    y = rng.poisson(rate * base_days)
    return Simulated(group, day, x, y, new_days / base_days, (sequences, days))


def _naive_daily_z_test(sim: Simulated) -> np.ndarray:
    """Crossings of a fixed-sample one-sided z-test (level alpha) repeated on each day's
    running totals: not anytime-valid."""
    p0 = CONFIG.theta0 * sim.r / (CONFIG.theta0 * sim.r + 1)
    n = sim.x + sim.y
    totals = np.zeros((3, *sim.shape))
    for k, values in enumerate([sim.x - n * p0, n * p0 * (1 - p0), n]):
        np.add.at(totals[k], (sim.group, sim.day), values)
    excess, variance, _ = np.cumsum(totals, axis=2)
    z = excess / np.sqrt(np.where(variance > 0, variance, np.inf))
    return z >= norm.ppf(1 - CONFIG.alpha)


def test_e_value_is_one_without_data() -> None:
    empty = np.array([], dtype=int)
    log_e = log_e_values(empty, empty, empty, empty, np.array([]), (3, 5), CONFIG)
    assert np.array_equal(log_e, np.zeros((3, 5)))
    # cohort-days with no errors on either side carry no evidence either
    zeros = log_e_values([0, 0], [1, 2], [0, 0], [0, 0], [0.5, 2.0], (1, 4), CONFIG)
    assert np.allclose(zeros, 0.0)


def test_log_likelihood_ratio_matches_the_binomial() -> None:
    x, y, r = np.array([3, 0, 12]), np.array([7, 5, 1]), np.array([0.2, 1.5, 4.0])
    thetas = np.array([1.5, 3.0])
    expected = np.column_stack(
        [
            binom.logpmf(x, x + y, t * r / (t * r + 1))
            - binom.logpmf(x, x + y, CONFIG.theta0 * r / (CONFIG.theta0 * r + 1))
            for t in thetas
        ]
    )
    assert np.allclose(log_likelihood_ratios(x, y, r, CONFIG.theta0, thetas), expected)


def test_e_value_grows_under_a_strong_regression() -> None:
    log_e = _simulate(3 * CONFIG.theta0, sequences=200, days=10, seed=1).log_e()
    assert np.median(log_e[:, -1]) > np.median(log_e[:, 2]) > 0
    assert (log_e.max(axis=1) >= np.log(1 / CONFIG.alpha)).mean() > 0.95


@pytest.mark.parametrize("shrink", [1.0, 0.8])
def test_false_alarms_stay_below_alpha_under_repeated_looks(shrink: float) -> None:
    """Ville: under theta <= theta0 the share of sequences that ever reach 1 / alpha, looking
    every day, is at most alpha (within Monte Carlo error)."""
    sequences = 4000
    sim = _simulate(shrink * CONFIG.theta0, sequences=sequences, days=14, seed=2)
    ever = (sim.log_e().max(axis=1) >= np.log(1 / CONFIG.alpha)).mean()
    se = np.sqrt(CONFIG.alpha * (1 - CONFIG.alpha) / sequences)
    assert ever <= CONFIG.alpha + 3 * se
    if shrink == 1.0:  # the same check catches a test that is not anytime-valid
        assert _naive_daily_z_test(sim).any(axis=1).mean() > CONFIG.alpha + 3 * se


def test_recommendation_rule() -> None:
    enough = np.full(5, 1000.0)
    assert list(recommend([1.0, 5.0, 25.0, 2.0, 0.5], enough, CONFIG)) == [
        CONTINUE,
        HOLD,  # e >= 1 / sqrt(alpha): evidence building
        ROLLBACK,
        ROLLBACK,  # the test stopped at the alarm: it stays a rollback
        ROLLBACK,
    ]
    exposure = np.array([0.0, 10.0, 49.0, 50.0])
    assert list(recommend(np.ones(4), exposure, CONFIG)) == [INSUFFICIENT, HOLD, HOLD, CONTINUE]
    assert recommend([30.0], [0.0], CONFIG)[0] == ROLLBACK


def test_recommendation_alarm_is_per_release() -> None:
    result = recommend([25.0, 1.0, 1.0, 1.0], np.full(4, 100.0), CONFIG, np.array(list("aabb")))
    assert list(result) == [ROLLBACK, ROLLBACK, CONTINUE, CONTINUE]


@pytest.mark.parametrize(
    "kwargs", [{"theta0": 0}, {"alpha": 1.0}, {"alpha": 0}, {"min_device_days": -1}]
)
def test_config_rejects_bad_values(kwargs) -> None:
    with pytest.raises(ValueError):
        CanaryConfig(**kwargs)


def _outcomes(log_ratios: np.ndarray, errors: float, regression: np.ndarray) -> pd.DataFrame:
    """A chain of releases r0, r1, ... each with its ratio to the previous one."""
    n = len(log_ratios)
    return pd.DataFrame(
        {
            "release_id": [f"r{i}" for i in range(n)],
            "previous_release_id": [None] + [f"r{i}" for i in range(n - 1)],
            "window_error_count": np.full(n, errors),
            "errors_rate_ratio_to_previous_release": np.exp(log_ratios),
            "is_regression": regression,
        }
    )


def test_theta0_is_the_quantile_of_clean_release_to_release_ratios() -> None:
    rng = np.random.default_rng(3)
    log_ratios = rng.normal(0.0, 0.2, 3000)
    regression = rng.uniform(size=3000) < 0.1
    log_ratios[regression] = 1.5  # regressions (and the release after one) are left out
    estimate = estimate_theta0(_outcomes(log_ratios, 1e9, regression), quantile=0.9)
    assert estimate is not None
    assert estimate.theta0 == pytest.approx(np.exp(1.2816 * 0.2), rel=0.03)
    assert estimate.between_release_sd == pytest.approx(0.2, rel=0.05)
    # with few errors per release the Poisson part of the spread is removed, not counted
    noisy = estimate_theta0(_outcomes(log_ratios, 50, regression), quantile=0.9)
    assert noisy is not None and noisy.between_release_sd < 0.2 + 0.03


def test_theta0_needs_enough_clean_pairs() -> None:
    assert estimate_theta0(_outcomes(np.zeros(20), 100, np.zeros(20, bool))) is None


def test_history_evaluation_on_a_generated_world(ml_warehouse, ml_world) -> None:
    inputs = read_canary_inputs(ml_warehouse)
    release_days = inputs.release_days
    evaluation = evaluate_history(inputs, read_oracle(ml_world), CONFIG)
    per_release = evaluation.per_release
    assert evaluation.releases == release_days["release_id"].nunique() == len(per_release)
    assert (
        evaluation.clean_evaluated
        + evaluation.regressions_evaluated
        + sum(evaluation.excluded.values())
        == evaluation.releases
    )
    by_previous = evaluation.detection_by_previous_release.values()
    assert sum(d for d, _ in by_previous) == evaluation.detected
    assert sum(n for _, n in by_previous) == evaluation.regressions_evaluated
    platforms = release_days["platform_id"].nunique()
    assert evaluation.excluded["no_previous_release"] == platforms
    assert evaluation.regressions_evaluated > 0 and evaluation.detected > 0
    assert evaluation.false_alarm_rate <= 0.05
    assert 0 <= evaluation.median_delay_days <= evaluation.p90_delay_days < evaluation.canary_days
    unmatched = per_release["exclusion_reason"].isin(
        ["no_previous_release", "no_exposure", "no_matched_baseline"]
    )
    assert unmatched.sum() >= platforms
    assert per_release.loc[unmatched, "alarm_day"].isna().all()  # no evidence without a baseline


def test_a_rolled_back_release_leaves_the_baseline_the_day_after() -> None:
    key = {"device_model_id": "m1", "region": "na", "days_since_release": 2}
    cohort_days = pd.DataFrame(
        [{"release_id": "r3", **key, "new_device_days": 10, "new_error_count": 1}]
    )
    baseline_days = pd.DataFrame(
        [
            {"release_id": "r3", **key, "baseline_release_id": b, "baseline_device_days": dd,
             "baseline_error_count": e, "activity_date": pd.Timestamp("2025-01-10")}
            for b, dd, e in [("r1", 100, 2), ("r2", 50, 9)]
        ]
    )  # fmt: skip
    rolled_back_on = pd.Series(pd.to_datetime(["2025-01-09"]), index=["r2"])
    composed = compose_cohort_days(cohort_days, baseline_days, rolled_back_on)
    assert composed.loc[0, ["baseline_device_days", "baseline_error_count"]].tolist() == [100, 2]
    assert bool(composed.loc[0, "is_matched"])
    same_day = compose_cohort_days(cohort_days, baseline_days, rolled_back_on + pd.Timedelta("1D"))
    assert same_day.loc[0, ["baseline_device_days", "baseline_error_count"]].tolist() == [150, 11]
    every = pd.Series(pd.to_datetime(["2025-01-01"] * 2), index=["r1", "r2"])
    alone = compose_cohort_days(cohort_days, baseline_days, every)
    assert alone.loc[0, "baseline_device_days"] == 0 and not alone.loc[0, "is_matched"]


def test_rollbacks_are_a_fixed_point_on_a_generated_world(ml_warehouse) -> None:
    inputs = read_canary_inputs(ml_warehouse)
    scored = score_with_rollbacks(inputs, CONFIG)
    rollbacks = rollback_dates(scored)
    composed = compose_cohort_days(inputs.cohort_days, inputs.baseline_days, rollbacks)
    again = score_release_days(inputs.release_days, composed, CONFIG)
    pd.testing.assert_series_equal(rollback_dates(again), rollbacks)
    # leaving rolled-back releases out changed some baselines, and only ever shrinks them
    merged = composed.merge(
        inputs.cohort_days,
        on=["release_id", "device_model_id", "region", "days_since_release"],
        suffixes=("", "_all"),
    )
    assert (merged["baseline_device_days"] <= merged["baseline_device_days_all"]).all()
    assert (merged["baseline_device_days"] < merged["baseline_device_days_all"]).any()
