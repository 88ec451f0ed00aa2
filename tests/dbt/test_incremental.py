"""Incremental builds: a warehouse built up to day D and then incrementally with day D + 1
holds exactly the marts of a full build of the data up to D + 1."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ml.warehouse.dbt import BuildConfig, build, read_table, run_dbt
from tests.dbt.test_warehouse import MARTS, assert_built, read_mart

INCREMENTAL = {  # incremental models and a sort key that makes their rows comparable
    "intermediate.int_error_events_screened": [
        "event_id",
        "event_copy_number",
        "occurred_at",
        "device_id",
    ],
    "intermediate.int_support_tickets_attributed": ["ticket_id"],
    "intermediate.int_release_cohort_days_aggregated": [
        "release_id",
        "device_model_id",
        "region",
        "activity_date",
    ],
    "intermediate.int_cohort_age_band_months_apportioned": [
        "release_id",
        "device_model_id",
        "region",
        "activity_month",
        "device_age_band",
    ],
}
DATE_COLUMNS = {  # raw table: the column that dates its rows
    "daily_active_devices": "activity_date",
    "error_events": "occurred_at",
    "support_tickets": "opened_at",
    "firmware_releases": "release_date",
}


def copy_world(source: Path, target: Path, filters: dict[str, str]) -> Path:
    """Copy a Parquet world, keeping only the rows of each filtered table that match."""
    shutil.copytree(source, target)
    with duckdb.connect() as con:
        for table, where in filters.items():
            path = target / f"{table}.parquet"
            con.execute(
                f"copy (select * from read_parquet('{source / f'{table}.parquet'}') where {where}) "
                f"to '{path}' (format parquet)"
            )
    return target


@pytest.fixture(scope="module")
def two_days(small_world_parquet: Path, tmp_path_factory) -> tuple[Path, Path]:
    """The world up to day D (one event of day D - 1 arrives late: only with day D + 1) and
    the world up to D + 1 (plus a duplicate of an early event id, dated D + 1)."""
    root = tmp_path_factory.mktemp("incremental_worlds")
    with duckdb.connect() as con:
        last_day = con.execute(
            f"select max(cast(activity_date as date)) from "
            f"read_parquet('{small_world_parquet / 'daily_active_devices.parquet'}')"
        ).fetchall()[0][0]
        events = small_world_parquet / "error_events.parquet"
        late_event_id, duplicate_of = con.execute(
            f"select max(event_id) filter (where cast(occurred_at as date) = ?), min(event_id) "
            f"from read_parquet('{events}')",
            [last_day - timedelta(days=2)],
        ).fetchall()[0]
    day_d = last_day - timedelta(days=1)
    up_to_d = {
        table: f"cast({column} as date) <= date '{day_d}'" for table, column in DATE_COLUMNS.items()
    }
    up_to_d["error_events"] += f" and event_id <> {late_event_id}"
    world_d = copy_world(small_world_parquet, root / "up_to_d", up_to_d)
    world_d1 = copy_world(small_world_parquet, root / "up_to_d1", {})
    with duckdb.connect() as con:
        path = world_d1 / "error_events.parquet"
        con.execute(
            f"copy (select * from read_parquet('{events}') union all "
            f"select * replace (timestamp '{last_day} 12:00:00' as occurred_at) "
            f"from read_parquet('{events}') where event_id = {duplicate_of}) "
            f"to '{path}' (format parquet)"
        )
    return world_d, world_d1


def sorted_table(duckdb_path: Path, relation: str, keys: list[str]) -> pd.DataFrame:
    frame = read_table(duckdb_path, relation)
    return frame.sort_values(keys).reset_index(drop=True)


def config(raw_dir: Path, duckdb_path: Path, select: str | None = None) -> BuildConfig:
    return BuildConfig(
        raw_dir=raw_dir,
        raw_format="parquet",
        duckdb_path=duckdb_path,
        dbt_vars={"raw_fault_severity": "warn"},  # the duplicate event id is a fault
        select=select,
    )


@pytest.fixture(scope="module")
def built_to_d(two_days, tmp_path_factory) -> Path:
    """A warehouse built on the world up to day D."""
    path = tmp_path_factory.mktemp("built_to_d") / "patchrisk.duckdb"
    assert_built(run_dbt("run", config(two_days[0], path)))
    return path


def test_incremental_build_equals_full_build(two_days, built_to_d: Path, tmp_path: Path) -> None:
    _, world_d1 = two_days
    incremental = tmp_path / "incremental.duckdb"
    full = tmp_path / "full.duckdb"
    shutil.copy(built_to_d, incremental)

    rows_up_to_d = len(read_table(incremental, "intermediate.int_error_events_screened"))
    result = build(config(world_d1, incremental))  # incremental: models and every data test
    assert_built(result)
    assert_built(run_dbt("run", config(world_d1, full)))

    screened = read_table(full, "intermediate.int_error_events_screened")
    assert len(screened) > rows_up_to_d
    assert (screened["rejection_reason"] == "duplicate_event_id").sum() >= 1
    for relation, keys in INCREMENTAL.items():
        pd.testing.assert_frame_equal(
            sorted_table(incremental, relation, keys),
            sorted_table(full, relation, keys),
            obj=relation,
        )
    for name in MARTS:
        pd.testing.assert_frame_equal(read_mart(incremental, name), read_mart(full, name), obj=name)


PARTITION_KEYS = {  # incremental model: its unique key (delete+insert replaces by it)
    "intermediate.int_error_events_screened": "screening_batch_date",
    "intermediate.int_support_tickets_attributed": "opened_date",
    "intermediate.int_release_cohort_days_aggregated": "activity_date",
    "intermediate.int_cohort_age_band_months_apportioned": "activity_month",
}


def test_the_incremental_branch_ran(two_days, built_to_d: Path, tmp_path: Path) -> None:
    """A silent full rebuild would pass the equality test above. Here each incremental
    model loses its oldest and its newest partition before the run on D + 1: the
    incremental branch re-processes the newest days only, so the oldest stays missing."""
    _, world_d1 = two_days
    path = tmp_path / "marked.duckdb"
    shutil.copy(built_to_d, path)
    removed = {}
    with duckdb.connect(str(path)) as con:
        for relation, key in PARTITION_KEYS.items():
            removed[relation] = con.execute(
                f"select min({key}), max({key}) from {relation} where {key} < date '9999-01-01'"
            ).fetchone()
            con.execute(f"delete from {relation} where {key} in (?, ?)", list(removed[relation]))
    select = " ".join(f"+{relation.split('.')[1]}" for relation in PARTITION_KEYS)
    assert_built(run_dbt("run", config(world_d1, path, select)))
    with duckdb.connect(str(path), read_only=True) as con:
        for relation, key in PARTITION_KEYS.items():
            oldest, newest = removed[relation]
            count = f"select count(*) from {relation} where {key} = ?"
            assert con.execute(count, [oldest]).fetchone() == (0,), (relation, "rebuilt in full")
            assert con.execute(count, [newest]).fetchone()[0] > 0, (relation, "not re-processed")
