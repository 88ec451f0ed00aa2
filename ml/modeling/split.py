"""Time-ordered split of the labelled releases: oldest train, then validation, newest test."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ml.errors import BadInputError
from ml.modeling.features import CLASS_LABEL, ORDER_COLUMNS

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class SplitConfig:
    """Fractions of the labelled releases per split, oldest first."""

    train: float = 0.6
    validation: float = 0.2
    min_rows_per_split: int = 10

    @property
    def test(self) -> float:
        return 1.0 - self.train - self.validation


@dataclass(frozen=True)
class TimeSplit:
    """The three slices of the labelled rows (each ordered by release_date, release_id)."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame

    def parts(self) -> dict[str, pd.DataFrame]:
        return {"train": self.train, "validation": self.validation, "test": self.test}

    def summary(self) -> dict[str, dict]:
        """Row counts, positives and date ranges per split (for the registry)."""
        out = {}
        for name, part in self.parts().items():
            dates = pd.to_datetime(part["release_date"])
            out[name] = {
                "rows": len(part),
                "positives": int(part[CLASS_LABEL].astype(bool).sum()),
                "release_date_min": str(dates.min().date()),
                "release_date_max": str(dates.max().date()),
            }
        return out


def time_split(labelled: pd.DataFrame, config: SplitConfig | None = None) -> TimeSplit:
    """Split by position in (release_date, release_id) order: 60 / 20 / 20 by default.

    Releases on the same date are kept in release_id order, so the split is deterministic.
    Raises BadInputError when a slice is too small or has a single class.
    """
    config = config or SplitConfig()
    ordered = labelled.sort_values(list(ORDER_COLUMNS), kind="stable").reset_index(drop=True)
    n = len(ordered)
    n_train = round(n * config.train)
    n_val = round(n * (config.train + config.validation)) - n_train
    parts = {
        "train": ordered.iloc[:n_train],
        "validation": ordered.iloc[n_train : n_train + n_val],
        "test": ordered.iloc[n_train + n_val :],
    }
    for name, part in parts.items():
        if len(part) < config.min_rows_per_split:
            raise BadInputError(
                f"{n} labelled releases give a {name} window of {len(part)} rows "
                f"(need >= {config.min_rows_per_split})"
            )
        classes = part[CLASS_LABEL].astype(bool).nunique()
        if classes < 2:
            value = bool(part[CLASS_LABEL].astype(bool).iloc[0])
            raise BadInputError(
                f"the {name} window ({len(part)} releases) has a single class "
                f"(is_regression={str(value).lower()} for all)"
            )
    return TimeSplit(**{k: v.reset_index(drop=True) for k, v in parts.items()})
