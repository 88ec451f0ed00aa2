"""Report fixtures: the ML tests' generated small world and a registry trained on it,
scored, drift-checked and rebuilt like `make run` does (generated data, never mocks)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ml.modeling.registry import Registry
from ml.operations.lifecycle import check_drift, score_warehouse
from ml.warehouse.dbt import BuildConfig, run_dbt


@pytest.fixture(scope="session")
def report_warehouse(
    ml_warehouse: Path,
    ml_world: Path,
    trained_registry: Path,
    tmp_path_factory,
) -> Path:
    """A copy of the ML warehouse, scored by the champion, with one drift check, and the
    marts that read the scores (QA queue, drift runs) rebuilt."""
    path = tmp_path_factory.mktemp("report_wh") / "patchrisk.duckdb"
    shutil.copy(ml_warehouse, path)
    registry = Registry(trained_registry)
    score_warehouse(path, registry)
    check_drift(path, registry)
    result = run_dbt("run", BuildConfig(raw_dir=ml_world, duckdb_path=path, select="source:ml+"))
    assert result.success, result.log[-3000:]
    return path
