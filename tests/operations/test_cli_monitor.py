"""`patchrisk monitor` on a built warehouse of a generated small world."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from ml.cli import main
from ml.operations.monitor import TIERS


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["monitor", *args], catch_exceptions=False)


def mart_counts(warehouse: Path, platform: str | None = None) -> dict[str, int]:
    sql = "select watch_tier, count(*) from marts.fct_fleet_watchlist"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if platform is None:
            rows = con.execute(sql + " group by 1").fetchall()
        else:
            rows = con.execute(sql + " where platform_id = ? group by 1", [platform]).fetchall()
    return {tier: dict(rows).get(tier, 0) for tier in TIERS}


def assert_one_line_error(result: Result, code: int, text: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], lines
    assert "Traceback" not in result.stderr


def test_json_holds_the_ranked_watchlist(ml_warehouse: Path) -> None:
    result = run("--warehouse", str(ml_warehouse), "--json", "--limit", "0")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["counts"] == mart_counts(ml_warehouse)
    assert doc["total_rows"] == len(doc["rows"]) > 0
    assert [r["watch_rank"] for r in doc["rows"]] == list(range(1, len(doc["rows"]) + 1))
    priorities = [r["watch_tier_priority"] for r in doc["rows"]]
    assert priorities == sorted(priorities)
    assert all(r["watch_reason"] for r in doc["rows"])
    with duckdb.connect(str(ml_warehouse), read_only=True) as con:
        (slope,) = con.execute(
            "select log_rate_slope_per_year from marts.fct_device_age_effect"
        ).fetchone()
    assert doc["age_effect"]["log_rate_slope_per_year"] == slope
    tested = [r for r in doc["rows"] if r["rate_ratio_test_status"] == "tested"]
    assert tested, "the small world has cohorts with enough exposure to test"
    assert {r["watch_tier"] for r in doc["rows"]} - set(TIERS) == set()


def test_filters_and_limit(ml_warehouse: Path) -> None:
    full = json.loads(run("--warehouse", str(ml_warehouse), "--json", "--limit", "0").stdout)
    platform = full["rows"][0]["platform_id"]
    tier = full["rows"][0]["watch_tier"]
    doc = json.loads(
        run(
            "--warehouse",
            str(ml_warehouse),
            "--json",
            "--platform",
            platform,
            "--tier",
            tier,
            "--limit",
            "3",
        ).stdout
    )
    expected = [r for r in full["rows"] if r["platform_id"] == platform and r["watch_tier"] == tier]
    assert doc["rows"] == expected[:3]
    assert doc["counts"][tier] == len(expected) == mart_counts(ml_warehouse, platform)[tier]
    assert sum(doc["counts"].values()) == len(expected)


def test_text_output(ml_warehouse: Path) -> None:
    result = run("--warehouse", str(ml_warehouse), "--limit", "5")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    counts = mart_counts(ml_warehouse)
    assert lines[0].startswith("fleet watchlist as of ")
    assert f"{counts['immediate']:,} immediate" in lines[1]
    assert f"{counts['insufficient_data']:,} insufficient data" in lines[1]
    assert lines[2].startswith("age effect: ")
    assert lines[3].split() == [
        "rank",
        "tier",
        "release",
        "model",
        "region",
        "age",
        "dev-days",
        "err/10k",
        "z",
        "risk",
    ]
    rows = [line for line in lines[4:] if line[:4].strip().isdigit()]
    assert len(rows) == min(5, sum(counts.values()))
    first = json.loads(run("--warehouse", str(ml_warehouse), "--json", "--limit", "1").stdout)
    assert rows[0].split()[:3] == [
        "1",
        first["rows"][0]["watch_tier"],
        first["rows"][0]["release_id"],
    ]
    reason = lines[lines.index(rows[0]) + 1 : lines.index(rows[1])]  # wrapped beneath its row
    assert " ".join(part.strip() for part in reason) == first["rows"][0]["watch_reason"]
    assert lines[-1].endswith("age multiplier)")  # the legend of the columns
    assert max(map(len, lines)) <= 100


def test_missing_warehouse_exits_3(tmp_path: Path) -> None:
    assert_one_line_error(run("--warehouse", str(tmp_path / "none.duckdb")), 3, "no warehouse at")


def test_warehouse_without_the_watchlist_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    assert_one_line_error(run("--warehouse", str(path), "--json"), 3, "marts.fct_fleet_watchlist")


def test_unknown_platform_exits_2(ml_warehouse: Path) -> None:
    assert_one_line_error(
        run("--warehouse", str(ml_warehouse), "--platform", "atlantis"), 2, "unknown platform"
    )


@pytest.mark.parametrize(
    "args", [["--limit", "-1"], ["--tier", "urgent"], ["--limit", "many"], ["--colour"]]
)
def test_bad_options_exit_2(ml_warehouse: Path, args: list[str]) -> None:
    result = run("--warehouse", str(ml_warehouse), *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
