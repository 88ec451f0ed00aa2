"""How well the telemetry label (`fct_release_outcomes.is_regression`) matches the oracle."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd


@dataclass(frozen=True)
class LabelAgreement:
    """Confusion counts of the telemetry label against the generator's true flag."""

    releases: int
    labelled: int
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int

    @property
    def agreement(self) -> float:
        return (self.true_positives + self.true_negatives) / self.labelled

    @property
    def precision(self) -> float:
        return self.true_positives / max(self.true_positives + self.false_positives, 1)

    @property
    def recall(self) -> float:
        return self.true_positives / max(self.true_positives + self.false_negatives, 1)

    def as_dict(self) -> dict[str, float | int]:
        rates = {"agreement": self.agreement, "precision": self.precision, "recall": self.recall}
        return {**asdict(self), **{k: round(v, 4) for k, v in rates.items()}}


def label_agreement(outcomes: pd.DataFrame, oracle: pd.DataFrame) -> LabelAgreement:
    """Compare labelled releases' `is_regression` with the oracle's `is_true_regression`."""
    joined = outcomes.merge(oracle, on="release_id", how="inner", validate="one_to_one")
    labelled = joined[joined["is_label_available"].astype(bool)]
    label = labelled["is_regression"].astype(bool)
    truth = labelled["is_true_regression"].astype(bool)
    return LabelAgreement(
        releases=len(joined),
        labelled=len(labelled),
        true_positives=int((label & truth).sum()),
        false_positives=int((label & ~truth).sum()),
        false_negatives=int((~label & truth).sum()),
        true_negatives=int((~label & ~truth).sum()),
    )
