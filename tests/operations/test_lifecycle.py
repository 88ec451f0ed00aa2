"""ml.operations.lifecycle: train from the warehouse into a registry; score back into the
warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ml.errors import IntegrityError
from ml.modeling.registry import LINEAR_BASE_FILE, METADATA_FILE, Registry
from ml.operations.lifecycle import champion_fit_problem, score_warehouse, train_from_warehouse
from ml.warehouse.dbt import BuildConfig, read_table, run_dbt


def test_second_training_is_a_challenger(registry_copy: Path, ml_warehouse, ml_world) -> None:
    reg = Registry(registry_copy)
    outcome = train_from_warehouse(ml_warehouse, ml_world, reg)
    assert outcome.version == "v0002" and outcome.aliases == ["challenger"]
    assert reg.aliases() == {"champion": "v0001", "challenger": "v0002"}
    assert reg.metadata("v0002")["metrics"] == reg.metadata("v0001")["metrics"]


def test_no_registry_writes_nothing(tmp_path: Path, ml_warehouse) -> None:
    outcome = train_from_warehouse(ml_warehouse, None, None)
    assert outcome.version is None and "oracle" not in outcome.run.metrics["classifier"]


def test_score_writes_every_release(trained_registry: Path, warehouse_copy: Path) -> None:
    outcome = score_warehouse(warehouse_copy, Registry(trained_registry))
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        n = con.execute("select count(*) from marts.fct_release_features").fetchall()[0][0]
        rows = con.execute("select count(distinct release_id) from ml.release_risk_scores")
        assert rows.fetchall()[0][0] == n == outcome.rows
    assert sum(outcome.decisions.values()) == n


def test_champion_fit_problem_names_why_training_is_needed(registry_copy, ml_mart, tmp_path):
    columns = list(ml_mart.columns)
    assert champion_fit_problem(Registry(registry_copy), columns) is None
    without = [c for c in columns if c != "test_file_ratio"]
    assert "test_file_ratio" in champion_fit_problem(Registry(registry_copy), without)
    assert champion_fit_problem(Registry(tmp_path / "empty"), columns) == "no champion"


def test_a_champion_without_a_linear_base_is_retrained_not_loaded(registry_copy, ml_mart):
    """A version trained before the linear base: `train --if-needed` retrains, and loading
    it for scoring fails with one line instead of a KeyError."""
    registry = Registry(registry_copy)
    folder = registry_copy / registry.aliases()["champion"]
    metadata = json.loads((folder / METADATA_FILE).read_text())
    del metadata["files"][LINEAR_BASE_FILE]
    (folder / METADATA_FILE).write_text(json.dumps(metadata))
    (folder / LINEAR_BASE_FILE).unlink()
    assert "linear base" in champion_fit_problem(registry, list(ml_mart.columns))
    with pytest.raises(IntegrityError, match="predates the linear base"):
        registry.load("champion")


def test_qa_queue_ranks_every_open_release_from_the_scores(
    trained_registry: Path, warehouse_copy: Path, ml_world: Path
) -> None:
    score_warehouse(warehouse_copy, Registry(trained_registry))
    config = BuildConfig(raw_dir=ml_world, duckdb_path=warehouse_copy, select="source:ml+")
    result = run_dbt("build", config)
    assert result.success, result.log[-3000:]
    queue = read_table(warehouse_copy, "marts.fct_qa_priority_queue").sort_values("priority_rank")
    outcomes = read_table(warehouse_copy, "marts.fct_release_outcomes")
    open_ids = set(outcomes.loc[~outcomes["is_window_closed"].astype(bool), "release_id"])
    assert open_ids and set(queue["release_id"]) == open_ids
    assert list(queue["priority_rank"]) == list(range(1, len(queue) + 1))
    assert queue["risk_per_1k_lines_changed"].is_monotonic_decreasing
    assert "Unscored" not in set(queue["qa_tier"])
    evaluation = read_table(warehouse_copy, "marts.fct_qa_ranking_evaluation")
    metrics = Registry(trained_registry).metadata("v0001")["metrics"]
    assert set(evaluation["ranking"]) == set(metrics["qa_ranking"])
