"""Shared fixtures: small generated worlds, their warehouses and a registry trained on one
(data fixtures are generated, never mocked)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ml.generate import WorldConfig
from ml.generate.world import generate_world
from ml.modeling.registry import METADATA_FILE, Registry
from ml.operations.lifecycle import train_from_warehouse
from ml.warehouse.dbt import BuildConfig, run_dbt
from ml.warehouse.marts import read_feature_mart

REPO_ROOT = Path(__file__).resolve().parents[1]
SMALL_WORLD = WorldConfig(
    seed=7,
    n_releases=120,
    n_devices=1200,
    n_events=20_000,
    start_date=date(2025, 1, 1),
    end_date=date(2025, 12, 31),
)


def pytest_collection_modifyitems(config, items) -> None:
    """Tests marked slow run only when `-m` names the mark (`pytest -m slow`)."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def small_world_csv(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small_world_csv")
    generate_world(SMALL_WORLD, out, "csv")
    return out


@pytest.fixture(scope="session")
def small_world_parquet(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small_world_parquet")
    generate_world(SMALL_WORLD, out, "parquet")
    return out


@pytest.fixture(scope="session")
def default_warehouse(tmp_path_factory) -> Path:
    """The embedded default world (seeds/) built with dbt run."""
    path = tmp_path_factory.mktemp("default_wh") / "patchrisk.duckdb"
    result = run_dbt("run", BuildConfig(raw_dir=REPO_ROOT / "seeds", duckdb_path=path))
    assert result.success, result.log[-3000:]
    return path


# Enough releases that every split of the labelled rows holds both classes.
ML_WORLD = replace(SMALL_WORLD, n_releases=360, n_devices=1500, n_events=30_000)


@pytest.fixture(scope="session")
def ml_world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ml_world")
    generate_world(ML_WORLD, out, "csv")
    return out


@pytest.fixture(scope="session")
def ml_warehouse(ml_world: Path, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ml_wh") / "patchrisk.duckdb"
    result = run_dbt("run", BuildConfig(raw_dir=ml_world, duckdb_path=path))
    assert result.success, result.log[-3000:]
    return path


@pytest.fixture(scope="session")
def ml_mart(ml_warehouse: Path) -> pd.DataFrame:
    return read_feature_mart(ml_warehouse)


@pytest.fixture(scope="session")
def trained_registry(ml_warehouse: Path, ml_world: Path, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("registry")
    train_from_warehouse(ml_warehouse, ml_world, Registry(root))
    return root


@pytest.fixture
def registry_copy(trained_registry: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "registry"
    shutil.copytree(trained_registry, dest)
    return dest


@pytest.fixture
def warehouse_copy(ml_warehouse: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "patchrisk.duckdb"
    shutil.copy(ml_warehouse, dest)
    return dest


def rewrite_mart(duckdb_path: Path, select_sql: str) -> None:
    """Replace the feature mart by `select_sql` over its current rows (alias `m`)."""
    with duckdb.connect(str(duckdb_path)) as con:
        con.execute("create temp table m as select * from marts.fct_release_features")
        con.execute(f"create or replace table marts.fct_release_features as {select_sql}")


@pytest.fixture
def two_champions(tmp_path: Path) -> Path:
    """The committed registry plus v0002 (a copy of v0001), promoted: champions v0001, v0002.
    Quick (no training), for tests of the registry's files."""
    root = tmp_path / "two_champions"
    shutil.copytree(REPO_ROOT / "models_artifacts", root)
    shutil.copytree(root / "v0001", root / "v0002")
    meta = json.loads((root / "v0002" / METADATA_FILE).read_text())
    (root / "v0002" / METADATA_FILE).write_text(json.dumps({**meta, "version": "v0002"}))
    Registry(root).promote("v0002")
    return root
