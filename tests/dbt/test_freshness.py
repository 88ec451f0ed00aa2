"""dbt source freshness: each raw fleet table's newest day against the data's as-of date."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ml.cli import main
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
    ("stale_world", "status", "exit_code"),
    [(2, "warn", 0), (5, "error", 3)],
    indirect=["stale_world"],
)
def test_a_table_behind_the_as_of_date_warns_then_errors(
    stale_world: Path, status: str, exit_code: int
) -> None:
    result = CliRunner().invoke(main, ["freshness", "--raw-dir", str(stale_world), "--json"])
    assert result.exit_code == exit_code, result.output
    sources = json.loads(result.stdout)["sources"]
    assert {name: s["status"] for name, s in sources.items()} == {
        **dict.fromkeys(CHECKED, "pass"),
        "fleet.error_events": status,
    }
    assert sources["fleet.error_events"]["days_behind"] == {"warn": 2, "error": 5}[status]
    if status == "error":
        assert result.stderr.splitlines() == ["error: stale raw tables: fleet.error_events"]
