"""ml.operations.drift: permutation-calibrated two-sample tests, Holm, and the drift verdict."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from ml.errors import BadInputError, EnvironmentFailure
from ml.modeling.evaluate import fast_auc
from ml.modeling.registry import Registry
from ml.operations.drift import (
    CONTEXT_FEATURES,
    WARNING,
    DriftConfig,
    auc_shift_p_value,
    bootstrap_aucs,
    calibration_shift_p_value,
    chi2_statistics,
    detect_drift,
    ecdf_statistics,
    holm,
    permutation_p_value,
    permuted_masks,
)
from ml.operations.lifecycle import check_drift
from ml.warehouse.dbt import read_table

FAST = DriftConfig(permutations=199)


def test_vectorised_statistics_equal_scipy() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300).round(1), rng.normal(0.3, 1.2, size=80).round(1)  # with ties
    masks = permuted_masks(len(a), len(b), 5, rng)
    ks, w1 = ecdf_statistics(np.r_[a, b], masks)
    assert ks[0] == pytest.approx(ks_2samp(a, b).statistic)
    assert w1[0] == pytest.approx(wasserstein_distance(a, b))
    codes = rng.integers(0, 4, 380)
    table = np.array([np.bincount(codes[:300], minlength=4), np.bincount(codes[300:], minlength=4)])
    assert chi2_statistics(codes, masks)[0] == pytest.approx(
        chi2_contingency(table, correction=False).statistic
    )


def test_permutation_p_values_are_calibrated_under_the_null() -> None:
    rng = np.random.default_rng(1)
    p_values = []
    for _ in range(300):
        values = rng.integers(0, 3, 250).astype(float)  # heavily tied, like binary features
        masks = permuted_masks(200, 50, 199, rng)
        p_values.append(permutation_p_value(ecdf_statistics(values, masks)[0]))
    assert np.mean(np.asarray(p_values) <= 0.05) <= 0.08
    shifted = np.r_[rng.normal(size=200), rng.normal(1.0, size=50)]
    masks = permuted_masks(200, 50, 199, rng)
    assert permutation_p_value(ecdf_statistics(shifted, masks)[0]) < 0.01


def test_holm_adjusts_step_down() -> None:
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


@pytest.fixture
def champion(trained_registry: Path):
    return Registry(trained_registry).load("champion")


def _after_reference(mart: pd.DataFrame, champion) -> pd.Series:
    end = champion.metadata["splits"]["validation"]["release_date_max"]
    return pd.to_datetime(mart["release_date"]) > pd.Timestamp(end)


def test_calibration_shift_is_calibrated_and_counts_the_validation_slice() -> None:
    rng = np.random.default_rng(2)
    p_val, p_win = rng.beta(1, 5, 300), rng.beta(1, 5, 60)
    p_values = [
        calibration_shift_p_value(
            p_win, rng.random(60) < p_win, p_val, rng.random(300) < p_val, 1.0, 199, rng
        )[1]
        for _ in range(300)
    ]
    assert np.mean(np.asarray(p_values) <= 0.05) <= 0.08
    y_val = (np.arange(300) < round(p_val.sum())).astype(int)  # validation exactly calibrated
    p_win = rng.beta(1, 5, 120)
    y_win = (np.arange(120) < round(2 * p_win.sum())).astype(int)  # window: twice the expected
    shift, p_large = calibration_shift_p_value(p_win, y_win, p_val, y_val, 1.0, 999, rng)
    assert shift > 0.5 and p_large < 0.01
    # the same window against a validation slice a tenth the size: its calibration is less
    # certain, so the shift is less significant
    _, p_small = calibration_shift_p_value(p_win, y_win, p_val[:30], y_val[::10], 1.0, 999, rng)
    assert p_small > p_large


def _odds_times(p: np.ndarray, factor: float) -> np.ndarray:
    return p * factor / (p * factor + 1 - p)


def test_calibration_shift_tolerates_the_margin() -> None:
    rng = np.random.default_rng(4)
    p_val, p_win = rng.beta(1, 5, 6000), rng.beta(1, 5, 6000)
    y_val = (np.arange(6000) < round(p_val.sum())).astype(int)
    # the window's odds are 1.2x the predicted ones: significant without a margin, within 1.25
    y_win = (np.arange(6000) < round(_odds_times(p_win, 1.2).sum())).astype(int)
    assert calibration_shift_p_value(p_win, y_win, p_val, y_val, 1.0, 999, rng)[1] < 0.01
    assert calibration_shift_p_value(p_win, y_win, p_val, y_val, 1.25, 999, rng)[1] > 0.5
    # a shift of 2x in either direction is still found
    for factor in (2.0, 0.5):
        y_far = (np.arange(6000) < round(_odds_times(p_win, factor).sum())).astype(int)
        assert calibration_shift_p_value(p_win, y_far, p_val, y_val, 1.25, 999, rng)[1] < 0.01
    # at exactly the margin, the false-alarm rate is at most alpha
    p_val, p_win = p_val[:300], p_win[:60]
    p_values = [
        calibration_shift_p_value(
            p_win,
            rng.random(60) < _odds_times(p_win, 1.25),
            p_val,
            rng.random(300) < p_val,
            1.25,
            199,
            rng,
        )[1]
        for _ in range(300)
    ]
    assert np.mean(np.asarray(p_values) <= 0.05) <= 0.08


def _scored(rng: np.random.Generator, n: int, signal: float = 1.5):
    """Probabilities of a logistic model with this much signal, and labels drawn from them."""
    p = 1 / (1 + np.exp(-(signal * rng.normal(size=n) - 1.8)))
    return p, (rng.random(n) < p).astype(int)


def test_stratified_bootstrap_aucs_match_resampling_by_hand() -> None:
    rng = np.random.default_rng(3)
    p, y = _scored(rng, 80)
    p = p.round(1)  # ties count one half
    fast = bootstrap_aucs(p, y, 4000, rng)
    pos, neg = p[y == 1], p[y == 0]
    by_hand = []
    for _ in range(4000):
        a, b = rng.choice(pos, len(pos)), rng.choice(neg, len(neg))
        by_hand.append(fast_auc(np.r_[np.ones(len(a)), np.zeros(len(b))], np.r_[a, b]))
    assert fast.mean() == pytest.approx(np.mean(by_hand), abs=0.004)
    assert fast.std() == pytest.approx(np.std(by_hand), rel=0.1)
    assert fast.mean() == pytest.approx(fast_auc(y, p), abs=0.005)


def test_auc_shift_is_calibrated_and_counts_the_validation_slice() -> None:
    rng = np.random.default_rng(4)
    p_values = []
    for _ in range(300):  # one world: the window ranks as well as the validation slice
        (p_win, y_win), (p_val, y_val) = _scored(rng, 60), _scored(rng, 200)
        if 0 < y_win.sum() < len(y_win):
            p_values.append(auc_shift_p_value(p_win, y_win, p_val, y_val, 0.0, 199, rng)[1])
    assert np.mean(np.asarray(p_values) <= 0.05) <= 0.08
    # a window where the model ranks no better than chance is caught
    p_val, y_val = _scored(rng, 2000)
    p_win = _scored(rng, 300)[0]
    y_win = (rng.random(300) < rng.permutation(p_win)).astype(int)  # labels unrelated to p_win
    difference, p_value = auc_shift_p_value(p_win, y_win, p_val, y_val, 0.05, 999, rng)
    assert difference < -0.2 and p_value < 0.01
    # a smaller drop against a validation ROC-AUC from ~20 regressions: taking that ROC-AUC
    # as exact (the window's bootstrap alone) raises an alarm, counting its uncertainty not
    rng = np.random.default_rng(1)
    (p_val, y_val), (p_win, y_win) = _scored(rng, 100, signal=2.5), _scored(rng, 2000)
    floor = fast_auc(y_val, p_val) - 0.05
    p_exact = (np.sum(bootstrap_aucs(p_win, y_win, 999, rng) >= floor) + 1) / 1000
    difference, p_value = auc_shift_p_value(p_win, y_win, p_val, y_val, 0.05, 999, rng)
    assert 15 <= y_val.sum() <= 25 and difference < -0.05
    assert p_exact <= 0.01 and p_value > 0.05


def test_report_levels(ml_mart, champion) -> None:
    report = detect_drift(ml_mart, champion, FAST)
    by_name = {c.name: c for c in report.checks}
    assert set(champion.spec.features) <= set(by_name)
    for name in (*CONTEXT_FEATURES, "regression_probability"):
        assert not by_name[name].votes and by_name[name].adjusted_p_value is None
    for name in champion.spec.features:
        alarm = name in champion.spec.categorical
        assert by_name[name].votes == alarm
        assert (by_name[name].detail == WARNING) == (not alarm and name not in CONTEXT_FEATURES)
    assert by_name["regression_probability_at_reference_context"].votes
    for check in report.checks:
        if check.adjusted_p_value is not None:
            assert check.adjusted_p_value >= check.p_value
    assert report.drifted == any(c.drifted and c.votes for c in report.checks)
    assert report.warnings == [c.name for c in report.checks if c.drifted and not c.votes]
    assert report.window_rows <= 100


def test_changes_the_model_weighs_are_drift(ml_mart, champion) -> None:
    after = _after_reference(ml_mart, champion)
    riskier = ml_mart.assign(
        code_churn_score=ml_mart["code_churn_score"].astype(float) + 1.5 * after,
        touches_bootloader=ml_mart["touches_bootloader"].where(~after, 1),
        test_file_ratio=ml_mart["test_file_ratio"].where(~after, 0.0),
    )
    report = detect_drift(riskier, champion)  # 999 permutations: p can reach 0.001
    alarms = {c.name for c in report.checks if c.drifted and c.votes}
    assert report.drifted and "regression_probability_at_reference_context" in alarms
    assert {"code_churn_score", "touches_bootloader", "test_file_ratio"} <= set(report.warnings)


def test_a_shift_the_model_cannot_see_is_only_a_warning(ml_mart, champion) -> None:
    after = _after_reference(ml_mart, champion)
    touches = [f for f in champion.spec.features if f.startswith("touches_")]
    flag = max(touches, key=lambda f: ml_mart.loc[after, f].astype(float).mean())
    # 1 -> 1000 in the window: the KS test sees it, the trees' 0/1 split does not
    shifted = ml_mart.assign(**{flag: ml_mart[flag].astype(float) * np.where(after, 1e3, 1.0)})
    before, report = detect_drift(ml_mart, champion), detect_drift(shifted, champion)
    assert flag in report.warnings and flag not in before.warnings
    model_checks = [c for c in report.checks if c.kind != "feature"]
    assert model_checks == [c for c in before.checks if c.kind != "feature"]
    assert report.drifted == before.drifted


def test_bad_input_is_named(ml_mart, champion) -> None:
    with pytest.raises(BadInputError, match="reference"):
        detect_drift(ml_mart, champion, replace(FAST, min_reference=100_000))
    with pytest.raises(BadInputError, match="after the champion"):
        detect_drift(ml_mart, champion, replace(FAST, min_window=100_000))
    after = _after_reference(ml_mart, champion)
    blank = ml_mart.assign(test_file_ratio=ml_mart["test_file_ratio"].where(~after))
    with pytest.raises(BadInputError, match="entirely missing in the window: test_file_ratio"):
        detect_drift(blank, champion, FAST)


def test_check_drift_appends_history(registry_copy, warehouse_copy, tmp_path) -> None:
    with pytest.raises(EnvironmentFailure, match="no champion"):
        check_drift(warehouse_copy, Registry(tmp_path / "empty"), FAST)
    first = check_drift(warehouse_copy, Registry(registry_copy), FAST)
    check_drift(warehouse_copy, Registry(registry_copy), FAST)
    history = read_table(warehouse_copy, "ml.drift_history")
    assert len(history) == 2 * len(first.checks)
    assert history["checked_at"].nunique() == 2
    assert set(history["check_name"]) == {c.name for c in first.checks}


def test_drift_runs_in_one_clock_tick_get_their_own_keys(registry_copy, warehouse_copy) -> None:
    """checked_at keys a run (unique with check_name in stg_ml__drift_history): runs in the
    same second, or at one clock reading, must not collide."""
    tick = datetime(2026, 3, 1, 12, 0, 0)
    for now in (tick.replace(microsecond=250_000), tick.replace(microsecond=750_000), tick, tick):
        check_drift(warehouse_copy, Registry(registry_copy), FAST, now=now)
    keys = read_table(warehouse_copy, "ml.drift_history")["checked_at"]
    assert sorted(keys.unique()) == [
        pd.Timestamp(tick.replace(microsecond=m)) for m in (250_000, 750_000, 750_001, 750_002)
    ]
