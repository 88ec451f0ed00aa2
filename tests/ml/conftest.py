"""ML fixtures: a small generated world built into a warehouse (dbt run), and a registry
holding one model trained on it. Generated data, never mocks."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ml.generate.world import generate_world
from ml.mart import read_feature_mart
from ml.registry import METADATA_FILE, Registry
from ml.warehouse import BuildConfig, run_dbt
from ml.workflow import train_from_warehouse
from tests.conftest import REPO_ROOT, SMALL_WORLD

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
