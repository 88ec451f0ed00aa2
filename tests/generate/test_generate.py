"""The simulator: determinism, sizes, the committed default world, truth and drift."""

from __future__ import annotations

import filecmp
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import roc_auc_score

from ml.cli import main
from ml.generate import ConfigError, WorldConfig
from ml.generate import world as world_module
from ml.generate.config import (
    EARLIEST_START_DATE,
    LATEST_END_DATE,
    MAX_DAYS,
    MAX_DEVICES,
    MAX_EVENTS_PER_DAY,
    MAX_SEED,
)
from ml.generate.world import generate_world
from tests.conftest import REPO_ROOT, SMALL_WORLD

TABLES = (
    "device_models",
    "devices",
    "firmware_releases",
    "daily_active_devices",
    "error_events",
    "support_tickets",
    "oracle/release_truth",
)


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _read(world: Path, table: str) -> pd.DataFrame:
    matches = list(world.glob(f"{table}.*"))
    assert len(matches) == 1, matches
    reader = "read_parquet" if matches[0].suffix == ".parquet" else "read_csv"
    return duckdb.sql(f"select * from {reader}('{matches[0]}')").df()


def test_committed_seeds_are_reproduced_byte_for_byte(tmp_path):
    generate_world(WorldConfig(), tmp_path, "csv")
    seeds = REPO_ROOT / "seeds"
    assert _files(tmp_path) == _files(seeds)
    _, mismatch, errors = filecmp.cmpfiles(seeds, tmp_path, _files(seeds), shallow=False)
    assert mismatch == [] and errors == []


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_arguments_give_identical_files(tmp_path, fmt):
    generate_world(SMALL_WORLD, tmp_path / "a", fmt)
    generate_world(SMALL_WORLD, tmp_path / "b", fmt)
    names = _files(tmp_path / "a")
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", names, shallow=False)
    assert mismatch == [] and errors == []
    assert {f"{t}.{fmt}" for t in TABLES} <= set(names)


def test_another_seed_gives_another_world(tmp_path):
    generate_world(replace(SMALL_WORLD, seed=8), tmp_path, "csv")
    assert not filecmp.cmp(tmp_path / "error_events.csv", _default_small(tmp_path), shallow=False)


def _default_small(tmp_path: Path) -> Path:
    generate_world(SMALL_WORLD, tmp_path / "seed7", "csv")
    return tmp_path / "seed7" / "error_events.csv"


def test_csv_and_parquet_hold_the_same_rows(small_world_csv, small_world_parquet):
    for table in TABLES:
        a, b = _read(small_world_csv, table), _read(small_world_parquet, table)
        assert len(a) == len(b), table
        pd.testing.assert_frame_equal(
            a.astype(str).reset_index(drop=True),
            b.astype(str).reset_index(drop=True),
            check_dtype=False,
        )


def test_sizes_follow_the_configuration(small_world_csv):
    assert len(_read(small_world_csv, "firmware_releases")) == SMALL_WORLD.n_releases
    assert len(_read(small_world_csv, "devices")) == SMALL_WORLD.n_devices
    n_events = len(_read(small_world_csv, "error_events"))
    assert abs(n_events - SMALL_WORLD.n_events) < 0.05 * SMALL_WORLD.n_events


def test_default_world_meets_the_brief():
    seeds = REPO_ROOT / "seeds"
    releases = _read(seeds, "firmware_releases")
    truth = _read(seeds, "oracle/release_truth").merge(releases, on="release_id")
    assert len(releases) >= 1000 and releases["platform_id"].nunique() >= 5
    span = pd.to_datetime(releases["release_date"]).agg(["min", "max"])
    assert (span["max"] - span["min"]).days >= 730
    assert len(_read(seeds, "devices")) >= 5000
    assert len(_read(seeds, "error_events")) >= 100_000
    base_rate = truth["is_true_regression"].mean()
    assert 0.10 <= base_rate <= 0.30
    auc = roc_auc_score(truth["is_true_regression"], truth["true_regression_probability"])
    assert 0.80 <= auc <= 0.92


def test_releases_are_consistent(small_world_csv):
    r = _read(small_world_csv, "firmware_releases")
    assert r["release_id"].is_unique
    assert not r.duplicated(["platform_id", "release_date"]).any()
    assert set(r["patch_type"]) == {"bugfix", "feature", "security", "hotfix"}
    assert (r["files_changed"] >= 1).all() and (r["lines_added"] >= 0).all()
    for _, group in r.sort_values("release_date").groupby("platform_id"):
        versions = [tuple(map(int, v.split("."))) for v in group["version"]]
        assert versions == sorted(versions) and len(set(versions)) == len(versions)


def test_events_happen_where_and_when_devices_run_the_release(small_world_csv):
    w = small_world_csv
    orphans = duckdb.sql(
        f"""
        select count(*) from read_csv('{w}/error_events.csv') e
        join read_csv('{w}/devices.csv') d using (device_id)
        anti join read_csv('{w}/daily_active_devices.csv') a
          on a.release_id = e.release_id and a.device_model_id = d.device_model_id
         and a.region = d.region and a.activity_date = cast(e.occurred_at as date)
        """
    ).fetchall()[0][0]
    assert orphans == 0


def test_support_tickets_lag_the_errors(small_world_csv):
    w = small_world_csv
    lag_days = duckdb.sql(
        f"""
        select median(date_diff('day', e.first_error, t.opened_at))
        from read_csv('{w}/support_tickets.csv') t
        join (select device_id, min(occurred_at) first_error
              from read_csv('{w}/error_events.csv') group by 1) e using (device_id)
        where t.opened_at > e.first_error
        """
    ).fetchall()[0][0]
    assert lag_days >= 1
    tickets = _read(w, "support_tickets")
    assert set(tickets["resolution"]) <= {"rma", "remote_fix", "no_fault_found", "open"}
    assert (tickets["resolved_at"].isna() == (tickets["resolution"] == "open")).all()


def test_older_devices_fail_more_often(small_world_csv):
    w = small_world_csv
    rates = duckdb.sql(
        f"""
        with d as (select device_id, manufacture_date < date '2022-01-01' as is_old
                   from read_csv('{w}/devices.csv'))
        select is_old, count(e.event_id) / count(distinct d.device_id) as events_per_device
        from d left join read_csv('{w}/error_events.csv') e using (device_id)
        group by is_old order by is_old
        """
    ).fetchall()
    assert rates[1][1] > 1.3 * rates[0][1]


def test_drift_adds_a_platform_and_shifts_the_world(tmp_path):
    drift_at = date(2025, 7, 1)
    # 400 releases: with ~60 on each side of the drift, the patch-type mix alone can hide
    # the 1.8x size shift in a median.
    generate_world(replace(SMALL_WORLD, n_releases=400, drift_at=drift_at), tmp_path, "csv")
    releases = _read(tmp_path, "firmware_releases").merge(_read(tmp_path, "oracle/release_truth"))
    zephyr = releases[releases["platform_id"] == "zephyr"]
    assert (
        len(zephyr) > 0 and (pd.to_datetime(zephyr["release_date"]) >= pd.Timestamp(drift_at)).all()
    )
    post = pd.to_datetime(releases["release_date"]) >= pd.Timestamp(drift_at)
    assert (releases["is_post_drift"] == post).all()
    lines = releases["lines_added"] + releases["lines_deleted"]
    assert lines[post].median() > 1.3 * lines[~post].median()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seed": -1}, "--seed"),
        ({"seed": MAX_SEED + 1}, "--seed"),
        ({"n_releases": 3}, "--releases"),
        ({"n_releases": 10**20}, "--releases"),
        ({"n_devices": 10}, "--devices"),
        ({"n_devices": MAX_DEVICES + 1}, "--devices"),
        ({"n_events": 5}, "--events"),
        ({"n_events": MAX_EVENTS_PER_DAY * SMALL_WORLD.n_days + 1}, "--events"),
        ({"n_events": 99999999999999999999}, "--events"),
        ({"end_date": date(2025, 1, 20)}, "end date"),
        ({"start_date": EARLIEST_START_DATE - timedelta(days=1)}, "--start-date"),
        ({"start_date": date(1, 1, 1)}, "--start-date"),
        ({"end_date": LATEST_END_DATE + timedelta(days=1)}, "--end-date"),
        ({"end_date": SMALL_WORLD.start_date + timedelta(days=MAX_DAYS)}, "at most 3,653 days"),
        ({"drift_at": date(2030, 1, 1)}, "--drift-at"),
    ],
)
def test_impossible_worlds_are_refused(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        generate_world(replace(SMALL_WORLD, **change), tmp_path, "csv")
    assert not any(tmp_path.iterdir())


TINY = ["--releases", "40", "--devices", "800", "--events", "5000"]
TINY_SPAN = ["--start-date", "2025-01-01", "--end-date", "2025-06-30"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--releases", "3"], "--releases"),
        (["--drift-at", "soon"], "YYYY-MM-DD"),
        (["--seed", "-1"], "--seed must be between 0 and"),
        (["--events", "99999999999999999999"], "--events must be at most"),
        (["--devices", "-5"], "--devices must be at least"),
        (["--start-date", "0001-01-01"], "--start-date must be on or after"),
        (["--end-date", "9999-12-31"], "--end-date must be on or before"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, args, words):
    out = tmp_path / "world"
    result = CliRunner().invoke(main, ["generate", *args, "--out", str(out)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], lines
    assert not out.exists()


def test_the_range_bounds_are_generated(tmp_path):
    """The largest seed and the first allowed start date make a world."""
    start = EARLIEST_START_DATE.isoformat()
    args = ["generate", *TINY, "--start-date", start, "--end-date", "2024-03-31"]
    result = CliRunner().invoke(main, [*args, "--seed", str(MAX_SEED), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "world.json").exists() and not (tmp_path / ".partial").exists()


def _fail_on_second_chunk(monkeypatch, error: BaseException) -> None:
    """Raise `error` while the events are being written (after the first chunk)."""
    real = world_module.tickets_from_events
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(world_module, "tickets_from_events", failing)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (KeyboardInterrupt(), 130, "interrupted"),
        (MemoryError(), 3, "out of memory"),
        (OSError(28, "No space left on device"), 3, "No space left on device"),
    ],
    ids=["ctrl-c", "memory", "disk full"],
)
def test_a_failure_midway_leaves_the_folder_as_it_was(tmp_path, monkeypatch, error, code, words):
    out = tmp_path / "world"
    generate = ["generate", *TINY, *TINY_SPAN, "--out", str(out)]
    assert CliRunner().invoke(main, [*generate, "--seed", "1"]).exit_code == 0
    before = _snapshot(out)
    _fail_on_second_chunk(monkeypatch, error)
    result = CliRunner().invoke(main, [*generate, "--seed", "2"])
    assert result.exit_code == code, result.output
    lines = result.output.splitlines()  # one line, no empty one before it
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], lines
    assert not (out / ".partial").exists()
    assert _snapshot(out) == before


def test_cli_writes_parquet_and_reports_json(tmp_path):
    args = [
        "generate",
        "--seed",
        "3",
        "--releases",
        "40",
        "--devices",
        "800",
        "--events",
        "5000",
        "--start-date",
        "2025-01-01",
        "--end-date",
        "2025-06-30",
        "--format",
        "parquet",
        "--out",
        str(tmp_path),
        "--json",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert '"firmware_releases": 40' in result.output
    assert (tmp_path / "error_events.parquet").exists() and (tmp_path / "world.json").exists()
