"""The device fleet: device models grouped into platforms, and the devices themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ml.generate.config import (
    DEVICE_MODEL_CATALOG,
    DRIFT_PLATFORM,
    REGION_WEIGHTS,
    REGIONS,
    SHIPPING_DAYS,
    WorldConfig,
)

HARDWARE_REVISIONS = ("rev_a", "rev_b", "rev_c")
_REVISION_FRAGILITY = np.array([1.15, 1.0, 0.9])
_MAX_PRODUCTION_DAYS = 4 * 365
_AGE_FRAGILITY_PER_YEAR = 0.3


@dataclass(frozen=True)
class Fleet:
    """Device models and devices, plus the hidden per-device fragility."""

    models: pd.DataFrame
    devices: pd.DataFrame
    platform_start: dict[str, date]
    device_model_index: np.ndarray  # row of `models` for each device
    device_region_index: np.ndarray  # index into REGIONS for each device
    device_age_at_start_years: np.ndarray  # age on its platform's first day
    device_weight: np.ndarray  # relative error proneness (older, earlier revisions: higher)

    def platform_mean_age_years(self, platform_id: str, on: date) -> float:
        """Mean device age of a platform's fleet on a date (hidden truth input)."""
        mask = (self.models["platform_id"].to_numpy()[self.device_model_index]) == platform_id
        elapsed = (on - self.platform_start[platform_id]).days / 365.25
        return float(self.device_age_at_start_years[mask].mean() + elapsed)


def build_fleet(cfg: WorldConfig, rng: np.random.Generator) -> Fleet:
    """Draw the device models and the devices of a world."""
    catalog = list(DEVICE_MODEL_CATALOG)
    platform_start = {platform: cfg.start_date for platform, *_ in catalog}
    if cfg.drift_at is not None:
        platform, name, soc = DRIFT_PLATFORM
        catalog.append((platform, name, soc, cfg.drift_at - timedelta(days=90)))
        platform_start[platform] = cfg.drift_at
    models = pd.DataFrame(
        catalog, columns=["platform_id", "model_name", "soc_family", "launch_date"]
    )
    models["device_model_id"] = [
        f"DM-{p.upper()}-{k + 1}"
        for p, k in zip(
            models["platform_id"], models.groupby("platform_id").cumcount(), strict=True
        )
    ]
    models = models[["device_model_id", "model_name", "platform_id", "soc_family", "launch_date"]]

    n = cfg.n_devices
    model_weights = rng.uniform(0.6, 1.4, len(models))
    model_index = np.sort(rng.choice(len(models), size=n, p=model_weights / model_weights.sum()))
    region_index = rng.choice(len(REGIONS), size=n, p=REGION_WEIGHTS)

    launch = pd.to_datetime(models["launch_date"]).to_numpy()[model_index]
    first_day = pd.to_datetime(models["platform_id"].map(platform_start)).to_numpy()[model_index]
    production_days = np.minimum(
        _MAX_PRODUCTION_DAYS,
        (first_day - launch).astype("timedelta64[D]").astype(int) - SHIPPING_DAYS,
    )
    position = rng.uniform(0, 1, n)  # where in the model's production run the device was made
    manufactured = launch + (position * production_days).astype("timedelta64[D]")
    revision = np.minimum((position * 3).astype(int), 2)
    age_years = (first_day - manufactured).astype("timedelta64[D]").astype(int) / 365.25
    weight = np.exp(_AGE_FRAGILITY_PER_YEAR * (age_years - 3.0)) * _REVISION_FRAGILITY[revision]

    devices = pd.DataFrame(
        {
            "device_id": [f"DEV-{i:07d}" for i in range(1, n + 1)],
            "device_model_id": models["device_model_id"].to_numpy()[model_index],
            "region": np.array(REGIONS)[region_index],
            "manufacture_date": pd.to_datetime(manufactured).date,
            "hardware_revision": np.array(HARDWARE_REVISIONS)[revision],
        }
    )
    return Fleet(
        models=models,
        devices=devices,
        platform_start=platform_start,
        device_model_index=model_index,
        device_region_index=region_index,
        device_age_at_start_years=age_years,
        device_weight=weight,
    )
