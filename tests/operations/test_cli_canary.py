"""`patchrisk canary`: text and --json on a generated world, --evaluate, one-line errors."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ml.cli import main
from ml.operations.canary import (
    CONTINUE,
    HOLD,
    INSUFFICIENT,
    ROLLBACK,
    CanaryConfig,
    read_canary_inputs,
    score_with_rollbacks,
)


def _run(*args: str):
    return CliRunner().invoke(main, ["canary", *args], catch_exceptions=False)


def _assert_one_line_error(result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], lines


def _releases(warehouse: Path) -> dict[str, str]:
    """A release with a matched baseline that alarmed, and a platform's first release."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        first = con.execute(
            "select release_id from marts.fct_canary_release_days "
            "where not has_previous_release order by release_id limit 1"
        ).fetchone()[0]
        matched = con.execute(
            "select release_id from marts.fct_canary_release_days "
            "where comparison_status = 'matched' and days_since_release = 13 "
            "order by cumulative_matched_new_error_count desc, release_id limit 1"
        ).fetchone()[0]
    return {"first": first, "matched": matched}


def test_help() -> None:
    result = _run("--help")
    assert result.exit_code == 0 and "anytime-valid" in result.output


def test_text_report(ml_warehouse) -> None:
    release = _releases(ml_warehouse)["matched"]
    result = _run("--release", release, "--warehouse", str(ml_warehouse))
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(f"canary {release} vs previous firmware")
    assert lines[1].startswith("theta0 ") and "e-value" in lines[2]
    last_day, recommendation, legend = lines[16], lines[17], lines[18:]
    assert last_day.startswith(" 13 ") and recommendation.startswith("recommendation: ")
    assert recommendation.split(": ")[1].split(" (")[0].split(";")[0] == last_day.split("  ")[-1]
    assert "dd: device-days" in legend[0] and max(map(len, lines)) <= 100


def test_json_report_and_version_with_platform(ml_warehouse) -> None:
    release = _releases(ml_warehouse)["matched"]
    result = _run("--release", release, "--warehouse", str(ml_warehouse), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["release_id"] == release and report["comparison_status"] == "matched"
    assert [d["days_since_release"] for d in report["days"]] == list(range(14))
    assert report["days"][1]["activity_date"] == str(
        date.fromisoformat(report["days"][0]["activity_date"]) + timedelta(days=1)
    )
    assert report["recommendation"] == report["days"][-1]["recommendation"]
    assert {d["recommendation"] for d in report["days"]} <= {CONTINUE, HOLD, ROLLBACK}
    assert report["days"][0]["e_value"] > 0 and report["config"]["alpha"] == 0.05
    platform, version = release.split("-", 1)
    same = _run(
        "--release", version, "--platform", platform, "--warehouse", str(ml_warehouse), "--json"
    )
    assert json.loads(same.stdout) == report


def test_first_release_is_insufficient_data(ml_warehouse) -> None:
    release = _releases(ml_warehouse)["first"]
    result = _run("--release", release, "--warehouse", str(ml_warehouse), "--json")
    report = json.loads(result.stdout)
    assert report["comparison_status"] == "no_previous_release"
    assert {d["recommendation"] for d in report["days"]} == {INSUFFICIENT}
    assert {d["e_value"] for d in report["days"]} == {1.0}


def test_alarm_is_a_rollback_from_its_day_on_and_alpha_moves_it(ml_warehouse) -> None:
    scored = score_with_rollbacks(read_canary_inputs(ml_warehouse), CanaryConfig())
    release = scored.loc[scored["recommendation"] == ROLLBACK, "release_id"].iloc[0]
    alarm = {}
    for alpha in ("0.05", "1e-12"):
        out = _run(
            "--release", release, "--warehouse", str(ml_warehouse), "--json", "--alpha", alpha
        )
        report = json.loads(out.stdout)
        alarm[alpha] = report["alarm_day"]
    assert alarm["0.05"] is not None and alarm["1e-12"] is None
    assert all(d["e_value"] < 1e12 for d in report["days"])  # the alpha = 1e-12 report
    out = json.loads(_run("--release", release, "--warehouse", str(ml_warehouse), "--json").stdout)
    recs = [d["recommendation"] for d in out["days"]]
    assert set(recs[alarm["0.05"] :]) == {ROLLBACK}
    assert ROLLBACK not in recs[: alarm["0.05"]] and out["recommendation"] == ROLLBACK


def test_evaluate_writes_the_table(warehouse_copy, ml_world) -> None:
    result = _run(
        "--evaluate", "--warehouse", str(warehouse_copy), "--raw-dir", str(ml_world), "--json"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["false_alarm_rate"] <= 0.05 and summary["detected"] > 0
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        rows, evaluated = con.execute(
            "select count(*), count(*) filter (where exclusion_reason is null) "
            "from ml.canary_evaluation"
        ).fetchone()
    assert rows == summary["rows_written"] == summary["releases"]
    assert evaluated == summary["clean_evaluated"] + summary["regressions_evaluated"]
    text = _run(
        "--evaluate", "--warehouse", str(warehouse_copy), "--raw-dir", str(ml_world), "--no-write"
    )
    assert "false alarms (rollback)" in text.stdout and "wrote" not in text.stdout


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--release", "ares-999.0.0"], "unknown release 'ares-999.0.0'"),
        (["--release", "4.2.0"], "give --platform too"),
    ],
)
def test_bad_release_exits_2(ml_warehouse, args, text) -> None:
    _assert_one_line_error(_run(*args, "--warehouse", str(ml_warehouse)), 2, text)


@pytest.mark.parametrize(
    "args", [[], ["--release", "a-1.0.0", "--evaluate"], ["--release", "a-1.0.0", "--alpha", "1"]]
)
def test_usage_errors_exit_2(args) -> None:
    assert _run(*args).exit_code == 2


def test_evaluate_without_oracle_exits_2(ml_warehouse, tmp_path: Path) -> None:
    result = _run("--evaluate", "--warehouse", str(ml_warehouse), "--raw-dir", str(tmp_path))
    _assert_one_line_error(result, 2, "no oracle/release_truth")


def test_missing_warehouse_exits_3(tmp_path: Path) -> None:
    result = _run("--release", "ares-4.2.0", "--warehouse", str(tmp_path / "none.duckdb"))
    _assert_one_line_error(result, 3, "no warehouse at")


def test_warehouse_without_canary_marts_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    _assert_one_line_error(_run("--release", "ares-4.2.0", "--warehouse", str(path)), 3, "lacks")
