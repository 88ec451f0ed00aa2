"""dbt source freshness: each raw fleet table's newest day against the data's as-of date."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ml.warehouse.dbt import BuildConfig, BuildResult, source_freshness
from tests.conftest import REPO_ROOT

SEEDS = REPO_ROOT / "seeds"
CHECKED = {
    "fleet.daily_active_devices",
    "fleet.error_events",
    "fleet.firmware_releases",
    "fleet.support_tickets",
}


def statuses(result: BuildResult) -> dict[str, str]:
    return {n.name: n.status for n in result.nodes}


def test_the_default_world_is_fresh(tmp_path: Path) -> None:
    result = source_freshness(BuildConfig(raw_dir=SEEDS, duckdb_path=tmp_path / "wh.duckdb"))
    assert result.success, result.log[-3000:]
    assert statuses(result) == dict.fromkeys(CHECKED, "pass")
    assert not (tmp_path / "wh.duckdb").exists()  # a scratch file, never the warehouse


@pytest.fixture
def stale_world(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """The default world whose error_events stop `request.param` days before its as-of date."""
    world = tmp_path / "world"
    world.mkdir()
    for raw in SEEDS.glob("*.csv"):
        (world / raw.name).symlink_to(raw)
    (world / "error_events.csv").unlink()
    duckdb.sql(
        f"copy (select * from read_csv('{SEEDS}/error_events.csv', all_varchar = true) "
        f"where cast(occurred_at as date) <= date '2026-06-30' - {request.param}) "
        f"to '{world}/error_events.csv' (header, quote '\"', force_quote *)"
    )
    return world


@pytest.mark.parametrize(
    ("stale_world", "status"), [(2, "warn"), (5, "error")], indirect=["stale_world"]
)
def test_a_table_behind_the_as_of_date_warns_then_errors(
    stale_world: Path, status: str, tmp_path: Path
) -> None:
    result = source_freshness(BuildConfig(raw_dir=stale_world, duckdb_path=tmp_path / "w.duckdb"))
    assert statuses(result) == {**dict.fromkeys(CHECKED, "pass"), "fleet.error_events": status}
    stale = next(n for n in result.nodes if n.name == "fleet.error_events")
    assert stale.days_behind == {"warn": 2, "error": 5}[status]
    assert result.success == (status == "warn")
