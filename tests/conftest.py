"""Shared fixtures: small generated worlds (data fixtures are generated, never mocked)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ml.generate import WorldConfig
from ml.generate.world import generate_world

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
    from ml.warehouse import BuildConfig, run_dbt

    path = tmp_path_factory.mktemp("default_wh") / "patchrisk.duckdb"
    result = run_dbt("run", BuildConfig(raw_dir=REPO_ROOT / "seeds", duckdb_path=path))
    assert result.success, result.log[-3000:]
    return path
