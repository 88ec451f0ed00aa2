"""Model features from the feature mart: the ONE place training and scoring both use.

The mart (`marts.fct_release_features`) is point-in-time correct; this module only
re-expresses its columns (interactions, ratios, logs) so that training and scoring cannot
drift apart. Label columns never enter the features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.errors import BadInputError

LABEL_COLUMNS = (
    "is_label_available",
    "is_regression",
    "post_release_errors_per_10k_device_days",
)
CLASS_LABEL = "is_regression"
REGRESSION_TARGET = "post_release_errors_per_10k_device_days"
EFFORT_COLUMN = "lines_changed"
ORDER_COLUMNS = ("release_date", "release_id")
COMPONENTS = ("audio", "bootloader", "drm", "network", "power", "storage", "ui", "video")
# Components whose touch flags are features. The others (audio, network, power, storage,
# ui, video) carried no signal beyond the component count on the development worlds.
RISKY_COMPONENTS = ("bootloader", "drm")
RUSHED_GAP_DAYS = 4

# Mart columns the feature builder reads (plus the identity / order columns).
REQUIRED_MART_COLUMNS: tuple[str, ...] = (
    "release_id",
    "platform_id",
    "release_date",
    "is_hotfix",
    "lines_changed",
    "code_churn_score",
    "component_count",
    *(f"touches_{c}" for c in RISKY_COMPONENTS),
    "test_file_ratio",
    "days_since_previous_release",
    "previous_release_errors_per_10k_device_days",
    "is_latest_labelled_release_regression",
    "platform_recent_regression_rate",
    "platform_trailing_errors_per_10k_device_days",
    "platform_avg_device_age_days",
)

CATEGORICAL_FEATURES: tuple[str, ...] = ("platform_id",)
NUMERIC_FEATURES: tuple[str, ...] = (
    "is_hotfix",
    "code_churn_score",
    "hotfix_churn",
    "component_count",
    "components_beyond_two",
    *(f"touches_{c}" for c in RISKY_COMPONENTS),
    "test_file_ratio",
    "is_rushed",
    "log_previous_release_error_ratio",
    "rushed_after_error_rise",
    "is_latest_labelled_release_regression",
    "rushed_after_regression",
    "platform_recent_regression_rate",
    "platform_avg_device_age_years",
)
FEATURES: tuple[str, ...] = (*CATEGORICAL_FEATURES, *NUMERIC_FEATURES)

# The notebook prototype's recipe: five raw mart columns, nothing engineered.
PROTOTYPE_FEATURES: tuple[str, ...] = (
    "code_churn_score",
    "previous_release_errors_per_10k_device_days",
    "platform_avg_device_age_days",
    "is_hotfix",
    "is_security",
)


@dataclass(frozen=True)
class FeatureSpec:
    """Which columns a model takes, in order, and which of them are categorical."""

    features: tuple[str, ...] = FEATURES
    categorical: tuple[str, ...] = CATEGORICAL_FEATURES
    required_mart_columns: tuple[str, ...] = REQUIRED_MART_COLUMNS

    def dtypes(self) -> dict[str, str]:
        return {f: ("category" if f in self.categorical else "float64") for f in self.features}


def check_columns(mart: pd.DataFrame, required: tuple[str, ...]) -> None:
    """Raise BadInputError naming the required columns the mart lacks."""
    missing = [c for c in required if c not in mart.columns]
    if missing:
        raise BadInputError(f"feature mart lacks column(s) the model needs: {', '.join(missing)}")


def _num(series: pd.Series) -> pd.Series:
    """Nullable ints/booleans as float64 with NaN for nulls."""
    return pd.to_numeric(series.astype("Float64"), errors="coerce").astype("float64")


def build_features(mart: pd.DataFrame) -> pd.DataFrame:
    """The model feature frame (columns = FEATURES) for every mart row, same index."""
    check_columns(mart, REQUIRED_MART_COLUMNS)
    m = mart
    f = pd.DataFrame(index=m.index)
    f["platform_id"] = m["platform_id"].astype(str)
    is_hotfix = _num(m["is_hotfix"])
    f["is_hotfix"] = is_hotfix
    churn = _num(m["code_churn_score"])
    f["code_churn_score"] = churn
    f["hotfix_churn"] = is_hotfix * churn
    f["component_count"] = _num(m["component_count"])
    f["components_beyond_two"] = (f["component_count"] - 2.0).clip(lower=0.0)
    for c in RISKY_COMPONENTS:
        f[f"touches_{c}"] = _num(m[f"touches_{c}"])
    f["test_file_ratio"] = _num(m["test_file_ratio"])
    gap = _num(m["days_since_previous_release"])
    rushed = (gap <= RUSHED_GAP_DAYS).astype("float64").where(gap.notna())
    f["is_rushed"] = rushed
    previous = _num(m["previous_release_errors_per_10k_device_days"])
    trailing = _num(m["platform_trailing_errors_per_10k_device_days"])
    ratio = np.log((previous + 1.0) / (trailing + 1.0))
    f["log_previous_release_error_ratio"] = ratio
    f["rushed_after_error_rise"] = rushed * ratio.clip(lower=0.0)
    latest_regression = _num(m["is_latest_labelled_release_regression"])
    f["is_latest_labelled_release_regression"] = latest_regression
    f["rushed_after_regression"] = rushed * latest_regression.fillna(0.0)
    f["platform_recent_regression_rate"] = _num(m["platform_recent_regression_rate"])
    f["platform_avg_device_age_years"] = _num(m["platform_avg_device_age_days"]) / 365.25
    return f.loc[:, list(FEATURES)]


def build_prototype_features(mart: pd.DataFrame) -> pd.DataFrame:
    """The prototype's five raw columns as float64."""
    check_columns(mart, PROTOTYPE_FEATURES)
    return pd.DataFrame({c: _num(mart[c]) for c in PROTOTYPE_FEATURES}, index=mart.index)


def labelled_rows(mart: pd.DataFrame) -> pd.DataFrame:
    """The rows with an available label, ordered by (release_date, release_id).

    Raises BadInputError for an empty or all-unlabelled mart.
    """
    check_columns(mart, (*ORDER_COLUMNS, *LABEL_COLUMNS))
    if mart.empty:
        raise BadInputError("the feature mart is empty")
    labelled = mart[mart["is_label_available"].astype("boolean").fillna(False).astype(bool)]
    if labelled.empty:
        raise BadInputError(f"the feature mart has no labelled rows (0 of {len(mart)})")
    if labelled[CLASS_LABEL].isna().any():
        raise BadInputError("labelled rows with a null is_regression")
    return labelled.sort_values(list(ORDER_COLUMNS), kind="stable").reset_index(drop=True)


def class_labels(frame: pd.DataFrame) -> np.ndarray:
    """is_regression as an int array (0/1)."""
    return frame[CLASS_LABEL].astype(bool).to_numpy().astype(int)


def regression_target(frame: pd.DataFrame) -> np.ndarray:
    """Post-release errors per 10k device-days as float64."""
    return _num(frame[REGRESSION_TARGET]).to_numpy()


def effort(frame: pd.DataFrame) -> np.ndarray:
    """QA effort per release: lines changed (at least 1)."""
    return np.maximum(_num(frame[EFFORT_COLUMN]).fillna(1.0).to_numpy(), 1.0)
