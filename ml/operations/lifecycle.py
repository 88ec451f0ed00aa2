"""The I/O edges of training and scoring: warehouse in, registry / warehouse out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ml.errors import EnvironmentFailure
from ml.modeling.evaluate import BootstrapConfig, bootstrap_auc, fast_auc
from ml.modeling.features import class_labels
from ml.modeling.registry import LINEAR_BASE_FILE, Registry, training_metadata
from ml.modeling.score import score_mart, score_rows, write_scores
from ml.modeling.train import TrainConfig, TrainingRun, run_training
from ml.operations.drift import (
    DRIFT_HISTORY_COLUMNS,
    DRIFT_HISTORY_TABLE,
    DriftConfig,
    DriftReport,
    detect_drift,
    history_rows,
    run_key,
)
from ml.warehouse.dbt import ML_SCHEMA, read_table, write_ml_tables
from ml.warehouse.marts import read_feature_mart, read_oracle


@dataclass(frozen=True)
class TrainOutcome:
    """A registered training run and the aliases it now holds."""

    version: str | None
    run: TrainingRun
    aliases: list[str]


def champion_fit_problem(registry: Registry, mart_columns: list[str]) -> str | None:
    """Why the champion does not fit the current feature contract, or None when it does.

    It fits when it exists, has a linear base, its feature list is this code's
    (ml.modeling.features.FEATURES) and the mart still has every column it requires.
    """
    from ml.modeling.features import FeatureSpec

    if "champion" not in registry.aliases():
        return "no champion"
    metadata = registry.metadata("champion")
    if LINEAR_BASE_FILE not in metadata["files"]:
        return "the champion predates the linear base its classifier is boosted from"
    features = metadata["features"]
    if tuple(features["names"]) != FeatureSpec().features:
        return "the champion's features differ from the current feature builder"
    missing = sorted(set(features["required_mart_columns"]) - set(mart_columns))
    if missing:
        return f"the mart lacks the champion's column(s) {', '.join(missing)}"
    return None


def train_from_warehouse(
    duckdb_path: Path,
    raw_dir: Path | None,
    registry: Registry | None,
    config: TrainConfig | None = None,
    promote: bool = False,
) -> TrainOutcome:
    """Train on the warehouse's feature mart; register the result unless registry is None.

    The new version becomes the challenger; it also becomes the champion when asked
    (`promote`) or when the registry has no champion yet.
    """
    mart = read_feature_mart(duckdb_path)
    oracle = read_oracle(raw_dir) if raw_dir is not None else None
    run = run_training(mart, oracle, config)
    if registry is None:
        return TrainOutcome(None, run, [])
    source = {
        "duckdb_path": str(Path(duckdb_path).resolve()),
        "mart_rows": len(mart),
        "labelled_rows": int(sum(len(p) for p in run.split.parts().values())),
        "oracle": str(Path(raw_dir).resolve()) if oracle is not None else None,
    }
    version = registry.register(
        run.classifier,
        run.regressor,
        training_metadata(run, source),
        linear_base=run.linear_base,
        promote=promote,
    )
    aliases = sorted(alias for alias, held in registry.aliases().items() if held == version)
    return TrainOutcome(version, run, aliases)


@dataclass(frozen=True)
class ScoreOutcome:
    version: str
    rows: int
    decisions: dict[str, int]
    scored_at: str


def score_warehouse(duckdb_path: Path, registry: Registry, model: str = "champion") -> ScoreOutcome:
    """Score every release of the feature mart with `model`; replace ml.release_risk_scores."""
    loaded = registry.load(model)  # verify hashes before touching the warehouse
    mart = read_feature_mart(duckdb_path)
    scored_at = datetime.now(UTC).replace(microsecond=0)
    scores = score_mart(mart, loaded, scored_at)
    rows = write_scores(duckdb_path, scores, loaded)
    counts = scores["decision"].value_counts()
    return ScoreOutcome(
        version=loaded.version,
        rows=rows,
        decisions={d: int(counts.get(d, 0)) for d in ("pass", "review", "block")},
        scored_at=scored_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def check_drift(
    duckdb_path: Path,
    registry: Registry,
    config: DriftConfig | None = None,
    record: bool = True,
    now: datetime | None = None,
) -> DriftReport:
    """Drift of the newest releases against the champion's reference; appended to
    ml.drift_history unless `record` is False, keyed by `run_key` of `now` (naive UTC;
    default the clock)."""
    if "champion" not in registry.aliases():
        raise EnvironmentFailure(f"no champion in {registry.root} (run patchrisk train first)")
    report = detect_drift(read_feature_mart(duckdb_path), registry.load("champion"), config)
    if record:
        now = now or datetime.now(UTC).replace(tzinfo=None)
        rows = history_rows(report, run_key(now, _latest_drift_run(duckdb_path)))
        write_ml_tables(duckdb_path, {DRIFT_HISTORY_TABLE: (rows, DRIFT_HISTORY_COLUMNS)}, True)
    return report


def _latest_drift_run(duckdb_path: Path) -> datetime | None:
    try:
        checked = read_table(duckdb_path, f"{ML_SCHEMA}.{DRIFT_HISTORY_TABLE}")["checked_at"]
    except duckdb.CatalogException:  # no drift check recorded yet
        return None
    return None if checked.empty else checked.max().to_pydatetime()


@dataclass(frozen=True)
class RetrainConfig:
    """When a challenger replaces the champion."""

    margin: float = 0.01  # ROC-AUC the challenger must gain on the comparison window
    # Retraining follows a detected change, so newer releases weigh more (the promotion
    # test keeps the champion when that does not pay off on the newest releases).
    recency_half_life_days: float | None = 365.0
    min_window: int = 50  # labelled releases the comparison needs (both classes)
    # a 90 % two-sided interval: its lower bound is a 5 % one-sided test
    bootstrap: BootstrapConfig = field(default_factory=lambda: BootstrapConfig(level=0.90))

    def train_config(self) -> TrainConfig:
        """How the challenger is trained: recency-weighted, refitted on train + validation."""
        return TrainConfig(
            recency_half_life_days=self.recency_half_life_days, refit_on_validation=True
        )


@dataclass(frozen=True)
class RetrainOutcome:
    """The decision and its evidence (also written to the registry history)."""

    challenger: str
    champion_before: str
    champion_after: str
    promoted: bool
    reason: str
    evidence: dict


def retrain(
    duckdb_path: Path,
    raw_dir: Path | None,
    registry: Registry,
    config: RetrainConfig | None = None,
) -> RetrainOutcome:
    """Train a challenger on everything labelled to date and promote it only if it beats
    the champion on the newest labelled releases neither was fitted on.

    The challenger is recency-weighted and, after early stopping and calibration on the
    validation slice, refitted on train + validation (`TrainConfig.refit_on_validation`):
    on development drift worlds (seeds 11-13) that took its post-change ROC-AUC gap to
    the oracle from -0.051 to -0.015 on average.

    The window is the challenger's test slice (its newest 20 %), less any release up to
    the end of the champion's own training data. Promotion needs ROC-AUC(challenger) -
    ROC-AUC(champion) >= margin and a paired-bootstrap lower bound above zero.
    """
    config = config or RetrainConfig()
    if "champion" not in registry.aliases():
        raise EnvironmentFailure(f"no champion in {registry.root} (run patchrisk train first)")
    champion = registry.load("champion")
    outcome = train_from_warehouse(duckdb_path, raw_dir, registry, config.train_config())
    challenger = registry.load(outcome.version)
    trained_until = pd.Timestamp(champion.metadata["splits"]["validation"]["release_date_max"])
    window = outcome.run.split.test
    window = window[pd.to_datetime(window["release_date"]) > trained_until]
    y = class_labels(window) if len(window) else np.array([], int)
    evidence: dict = {
        "window_rows": len(window),
        "window_regressions": int(y.sum()),
        "window_start": str(pd.to_datetime(window["release_date"]).min().date())
        if len(window)
        else None,
        "margin": config.margin,
    }
    promoted = False
    if len(window) < config.min_window or y.min(initial=1) == y.max(initial=0):
        reason = (
            f"only {len(window)} new labelled releases to compare on "
            f"(need >= {config.min_window} with both classes)"
        )
    else:
        p_champion = score_rows(window, champion).probability
        p_challenger = score_rows(window, challenger).probability
        # bootstrap_auc's "gap to oracle" keys hold the paired difference to `reference`.
        ci = bootstrap_auc(p_challenger, y, config.bootstrap, reference=p_champion)
        evidence |= {
            "champion_roc_auc": fast_auc(y, p_champion),
            "challenger_roc_auc": fast_auc(y, p_challenger),
            "difference_ci_low": ci["roc_auc_gap_to_oracle_ci_low"],
            "difference_ci_high": ci["roc_auc_gap_to_oracle_ci_high"],
            "ci_level": config.bootstrap.level,
        }
        difference = evidence["challenger_roc_auc"] - evidence["champion_roc_auc"]
        evidence["difference"] = difference
        promoted = difference >= config.margin and evidence["difference_ci_low"] > 0
        reason = (
            f"challenger {challenger.version} ROC-AUC {evidence['challenger_roc_auc']:.3f} vs "
            f"champion {champion.version} {evidence['champion_roc_auc']:.3f} on {len(window)} "
            f"new labelled releases: difference {difference:+.3f} "
            f"({config.bootstrap.level:.0%} CI {evidence['difference_ci_low']:+.3f}.."
            f"{evidence['difference_ci_high']:+.3f}; promotion needs >= {config.margin:+.3f} "
            "and a lower bound above 0)"
        )
    if promoted:
        registry.promote(challenger.version, reason=f"retrain: {reason}", evidence=evidence)
    else:
        registry.record_kept(challenger.version, f"retrain: {reason}", evidence)
    after = challenger.version if promoted else champion.version
    return RetrainOutcome(challenger.version, champion.version, after, promoted, reason, evidence)
