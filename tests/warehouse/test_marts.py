"""ml.warehouse.marts: reading the feature mart and the oracle; missing warehouse / table."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml.errors import EnvironmentFailure
from ml.warehouse.dbt import default_duckdb_path
from ml.warehouse.marts import read_feature_mart, read_oracle


def test_reads_mart_in_release_order(ml_warehouse: Path) -> None:
    mart = read_feature_mart(ml_warehouse)
    keys = list(zip(mart["release_date"], mart["release_id"], strict=True))
    assert keys == sorted(keys) and len(mart) > 0


def test_missing_warehouse_and_relation(tmp_path: Path, ml_warehouse: Path) -> None:
    with pytest.raises(EnvironmentFailure, match="no warehouse"):
        read_feature_mart(tmp_path / "nope.duckdb")
    with pytest.raises(EnvironmentFailure, match=r"marts\.nope"):
        read_feature_mart(ml_warehouse, "marts.nope")


def test_oracle(ml_world: Path, tmp_path: Path) -> None:
    truth = read_oracle(ml_world)
    assert truth is not None and truth["is_true_regression"].dtype == bool
    assert truth["true_regression_probability"].between(0, 1).all()
    assert read_oracle(tmp_path) is None


def test_default_path_from_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATCHRISK_DUCKDB_PATH", str(tmp_path / "x.duckdb"))
    assert default_duckdb_path() == tmp_path / "x.duckdb"
