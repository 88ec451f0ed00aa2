"""The I/O edges of training and scoring: warehouse in, registry / warehouse out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ml.mart import read_feature_mart, read_oracle
from ml.registry import Registry, training_metadata
from ml.score import score_mart, write_scores
from ml.train import TrainConfig, TrainingRun, run_training


@dataclass(frozen=True)
class TrainOutcome:
    """A registered training run and the aliases it now holds."""

    version: str | None
    run: TrainingRun
    aliases: list[str]


def champion_fit_problem(registry: Registry, mart_columns: list[str]) -> str | None:
    """Why the champion does not fit the current feature contract, or None when it does.

    It fits when it exists, its feature list is this code's (ml.features.FEATURES) and the
    mart still has every column it requires.
    """
    from ml.features import FeatureSpec

    if "champion" not in registry.aliases():
        return "no champion"
    features = registry.metadata("champion")["features"]
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
    version = registry.save(run.classifier, run.regressor, training_metadata(run, source))
    aliases = ["challenger"]
    registry.set_challenger(version)
    if promote or "champion" not in registry.aliases():
        registry.promote(version, reason="first model" if not promote else "trained --promote")
        aliases = ["champion"]
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
