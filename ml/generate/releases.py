"""Firmware releases per platform and the hidden causal truth of which ones regress.

A release's latent regression probability is a non-linear function of its pre-release
attributes and its platform's context (see ``_regression_logit``), plus noise that no
model can see. The truth is returned beside the public attributes; only the oracle file
carries it out of the generator.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np
import pandas as pd

from ml.generate.config import (
    CATEGORY_SHARE,
    COMPONENT_CATEGORY,
    COMPONENT_WEIGHTS,
    COMPONENTS,
    ERROR_CATEGORIES,
    PATCH_TYPES,
    WorldConfig,
)
from ml.generate.fleet import Fleet

_BASE_PATCH_TYPE_PROBS = np.array([0.47, 0.30, 0.15, 0.08])
# log(lines changed) mean and sd, and the Poisson rate of extra components, per patch type.
_LINES_LOG_MEAN = {"bugfix": 5.0, "feature": 6.6, "security": 5.3, "hotfix": 4.3}
_LINES_LOG_SD = {"bugfix": 1.0, "feature": 0.9, "security": 0.9, "hotfix": 1.3}
_EXTRA_COMPONENTS = {"bugfix": 0.7, "feature": 1.8, "security": 0.6, "hotfix": 0.5}
_MAX_REGRESSION_CATEGORY_MULTIPLIER = 15.0
_UNSEEN_NOISE_SD = 0.3
_RUSHED_GAP_DAYS = 4
_UPLIFT_FLOOR = 2.0  # minimum platform-level error-rate uplift of a regression
_UPLIFT_GAMMA = (2.0, 0.4)  # shape, scale of the uplift above the floor


@dataclass(frozen=True)
class Releases:
    """Public release attributes, the oracle, and the hidden effects on telemetry."""

    table: pd.DataFrame  # raw firmware_releases columns
    oracle: pd.DataFrame  # oracle/release_truth columns
    category_multiplier: np.ndarray  # (releases, categories) error multiplier on susceptible models
    susceptible_model: np.ndarray  # (releases, models) bool
    quality: np.ndarray  # (releases,) multiplier on all error categories (release-to-release noise)


@dataclass(frozen=True)
class TruthCoefficients:
    """Log-odds weights of the hidden causal model (one set before, one after a drift)."""

    intercept: float
    churn: float  # per unit of log1p(lines changed) above 5.5
    hotfix_churn: float  # per unit of log1p(lines) above 4.5, hotfixes only
    component: float  # per component touched beyond two
    bootloader: float
    drm: float
    test: float  # protective: per unit of test-file share above 0.25
    untested: float  # a change whose test-file share is under 0.1
    rushed: float  # within _RUSHED_GAP_DAYS of a release that really regressed
    fleet_age: float  # per year of the platform fleet's mean age above 3
    recent_regressions: float  # per true regression among the platform's last 10 releases above 2


TRUTH = TruthCoefficients(
    intercept=-3.2,
    churn=0.5,
    hotfix_churn=0.9,
    component=0.8,
    bootloader=0.9,
    drm=0.6,
    test=2.0,
    untested=0.8,
    rushed=0.8,
    fleet_age=0.45,
    recent_regressions=0.15,
)
# After a drift the process changes: churn matters a third as much, many components twice
# as much, and test changes stop protecting.
DRIFT_TRUTH = replace(
    TRUTH, churn=TRUTH.churn / 3, component=TRUTH.component * 2, test=0.0, untested=0.0
)


def _regression_logit(
    *,
    churn: float,
    is_hotfix: bool,
    n_components: int,
    touches: set[str],
    test_ratio: float,
    rushed: bool,
    fleet_age_years: float,
    recent_regressions: int,
    platform_effect: float,
    post_drift: bool,
) -> float:
    """The hidden causal model: log-odds of a regression before unseen noise."""
    c = DRIFT_TRUTH if post_drift else TRUTH
    return (
        c.intercept
        + c.churn * (churn - 5.5)
        + c.hotfix_churn * is_hotfix * max(churn - 4.5, 0.0)
        + c.component * max(n_components - 2, 0)
        + c.bootloader * ("bootloader" in touches)
        + c.drm * ("drm" in touches)
        - c.test * (test_ratio - 0.25)
        + c.untested * (test_ratio < 0.1)
        + c.rushed * rushed
        + c.fleet_age * (fleet_age_years - 3.0)
        + c.recent_regressions * (recent_regressions - 2)
        + platform_effect
    )


def _platform_release_counts(cfg: WorldConfig, fleet: Fleet) -> dict[str, int]:
    """Split n_releases over platforms in proportion to their active days (largest remainder)."""
    span = {p: (cfg.end_date - start).days for p, start in fleet.platform_start.items()}
    total = sum(span.values())
    raw = {p: cfg.n_releases * s / total for p, s in span.items()}
    counts = {p: int(v) for p, v in raw.items()}
    for p in sorted(raw, key=lambda p: (counts[p] - raw[p], p))[
        : cfg.n_releases - sum(counts.values())
    ]:
        counts[p] += 1
    return counts


def simulate_releases(cfg: WorldConfig, fleet: Fleet, rng: np.random.Generator) -> Releases:
    """Draw every platform's release history and its hidden truth, release by release."""
    rows: list[dict] = []
    truth: list[dict] = []
    multipliers: list[np.ndarray] = []
    susceptible: list[np.ndarray] = []
    model_platform = fleet.models["platform_id"].to_numpy()
    model_age = (
        (pd.Timestamp(cfg.start_date) - pd.to_datetime(fleet.models["launch_date"])).dt.days
        / 365.25
    ).to_numpy()
    model_device_weight = np.bincount(
        fleet.device_model_index, weights=fleet.device_weight, minlength=len(fleet.models)
    )

    for platform, count in _platform_release_counts(cfg, fleet).items():
        start = fleet.platform_start[platform]
        span = (cfg.end_date - start).days
        offsets = np.concatenate(
            [[0], np.sort(rng.choice(np.arange(1, span), count - 1, replace=False))]
        )
        platform_effect = rng.normal(0, 0.25)
        version = [int(rng.integers(2, 6)), int(rng.integers(0, 10)), 0]
        platform_models = np.flatnonzero(model_platform == platform)
        flags: list[bool] = []
        for i, offset in enumerate(offsets):
            release_date = start + timedelta(days=int(offset))
            gap = int(offset - offsets[i - 1]) if i else 0
            post_drift = cfg.drift_at is not None and release_date >= cfg.drift_at
            rushed = bool(i and flags[-1] and gap <= _RUSHED_GAP_DAYS)
            probs = _BASE_PATCH_TYPE_PROBS.copy()
            if rushed:
                probs[3] += 1.5  # a fix shipped fast after a bad release is usually a hotfix
            patch_type = (
                "feature" if i == 0 else str(rng.choice(PATCH_TYPES, p=probs / probs.sum()))
            )
            version = _bump(version, patch_type, rng) if i else version

            lines = int(
                np.expm1(rng.normal(_LINES_LOG_MEAN[patch_type], _LINES_LOG_SD[patch_type]))
            )
            if post_drift:
                lines = int(lines * 1.8)
            lines = max(lines, 1)
            lines_added = round(lines * rng.beta(5, 3))
            files = 1 + int(rng.poisson(lines / 35))
            n_components = min(1 + int(rng.poisson(_EXTRA_COMPONENTS[patch_type])), len(COMPONENTS))
            weights = np.array(COMPONENT_WEIGHTS)
            if patch_type == "security":
                weights[COMPONENTS.index("drm")] *= 4
            touched = sorted(
                rng.choice(COMPONENTS, n_components, replace=False, p=weights / weights.sum())
            )
            test_files = int(rng.binomial(files, rng.beta(2, 6)))
            fleet_age = fleet.platform_mean_age_years(platform, release_date)

            logit = _regression_logit(
                churn=float(np.log1p(lines)),
                is_hotfix=patch_type == "hotfix",
                n_components=n_components,
                touches=set(touched),
                test_ratio=test_files / files,
                rushed=rushed,
                fleet_age_years=fleet_age,
                recent_regressions=sum(flags[-10:]),
                platform_effect=platform_effect,
                post_drift=post_drift,
            )
            probability = (
                0.0
                if i == 0
                else float(1 / (1 + np.exp(-(logit + rng.normal(0, _UNSEEN_NOISE_SD)))))
            )
            flag = bool(rng.uniform() < probability)
            flags.append(flag)

            mult, susc, uplift = _regression_effect(
                flag, touched, platform_models, model_age, model_device_weight, rng
            )
            multipliers.append(mult)
            susceptible.append(susc)
            release_id = f"{platform}-{version[0]}.{version[1]}.{version[2]}"
            rows.append(
                {
                    "release_id": release_id,
                    "platform_id": platform,
                    "version": f"{version[0]}.{version[1]}.{version[2]}",
                    "patch_type": patch_type,
                    "files_changed": files,
                    "lines_added": lines_added,
                    "lines_deleted": lines - lines_added,
                    "components_touched": "|".join(touched),
                    "package_size_kb": int(
                        900 + 150 * n_components + lines * rng.lognormal(0.7, 0.3)
                    ),
                    "test_files_changed": test_files,
                    "release_date": release_date,
                }
            )
            truth.append(
                {
                    "release_id": release_id,
                    "true_regression_probability": round(probability, 6),
                    "is_true_regression": flag,
                    "regression_multiplier": round(uplift, 4),
                    "affected_categories": "|".join(
                        c for c, m in zip(ERROR_CATEGORIES, mult, strict=True) if m > 1
                    )
                    or None,
                    "is_post_drift": post_drift,
                }
            )

    order = np.argsort([f"{r['release_date']}|{r['release_id']}" for r in rows], kind="stable")
    table = pd.DataFrame(rows).iloc[order].reset_index(drop=True)
    oracle = pd.DataFrame(truth).iloc[order].reset_index(drop=True)
    quality = np.exp(rng.normal(0, 0.12, len(rows)))
    return Releases(
        table=table,
        oracle=oracle,
        category_multiplier=np.array(multipliers)[order],
        susceptible_model=np.array(susceptible)[order],
        quality=quality,
    )


def _bump(version: list[int], patch_type: str, rng: np.random.Generator) -> list[int]:
    """Next semver: features bump minor (rarely major), everything else bumps patch."""
    major, minor, patch = version
    if patch_type == "feature":
        return [major + 1, 0, 0] if rng.uniform() < 0.03 else [major, minor + 1, 0]
    return [major, minor, patch + 1]


def _regression_effect(
    flag: bool,
    touched: list[str],
    platform_models: np.ndarray,
    model_age: np.ndarray,
    model_device_weight: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Category multipliers, susceptible models and the overall uplift of a release."""
    mult = np.ones(len(ERROR_CATEGORIES))
    susc = np.zeros(len(model_age), dtype=bool)
    if not flag:
        return mult, susc, 1.0
    affected = {COMPONENT_CATEGORY[c] for c in touched}
    if rng.uniform() < 0.5:
        affected.add("crash")
    idx = [ERROR_CATEGORIES.index(c) for c in sorted(affected)]
    p_susceptible = np.clip(0.45 + 0.1 * model_age[platform_models], 0.3, 0.95)
    chosen = platform_models[rng.uniform(size=len(platform_models)) < p_susceptible]
    if len(chosen) == 0:
        chosen = platform_models[[int(np.argmax(model_age[platform_models]))]]
    susc[chosen] = True
    weight_share = model_device_weight[chosen].sum() / model_device_weight[platform_models].sum()
    category_share = float(np.sum(np.array(CATEGORY_SHARE)[idx]))
    target_uplift = _UPLIFT_FLOOR + rng.gamma(*_UPLIFT_GAMMA)
    m = min(
        1 + (target_uplift - 1) / (category_share * weight_share),
        _MAX_REGRESSION_CATEGORY_MULTIPLIER,
    )
    mult[idx] = m
    return mult, susc, float(1 + (m - 1) * category_share * weight_share)
