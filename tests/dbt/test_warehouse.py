"""dbt build on generated worlds: clean build, csv/parquet parity, point in time, faults."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from ml.warehouse.dbt import BuildConfig, BuildResult, build, quarantine_counts, read_table, run_dbt

MARTS = {
    "dim_device_models": ["device_model_id"],
    "dim_devices": ["device_id"],
    "dim_firmware_releases": ["release_id"],
    "fct_release_outcomes": ["release_id"],
    "fct_release_features": ["release_id"],
    "fct_error_spikes": ["platform_id", "spike_date"],
    "fct_rma_by_error_code": ["error_code"],
    "fct_stability_curves": ["release_id", "days_since_release"],
    "fct_device_age_effect": ["as_of_date"],
    "fct_cohort_firmware_health": ["release_id", "device_model_id", "region", "device_age_band"],
    "fct_fleet_watchlist": ["watch_rank"],
    "fct_canary_baseline_days": [
        "release_id",
        "device_model_id",
        "region",
        "days_since_release",
        "baseline_release_id",
    ],
    "fct_canary_cohort_days": ["release_id", "device_model_id", "region", "days_since_release"],
    "fct_canary_release_days": ["release_id", "days_since_release"],
    "fct_quarantined_raw_rows": ["source_table", "raw_row_key", "quarantine_row_number"],
    "fct_raw_row_reconciliation": ["source_table"],
}
LABEL_COLUMNS = ["is_label_available", "is_regression", "post_release_errors_per_10k_device_days"]


def read_mart(duckdb_path: Path, name: str) -> pd.DataFrame:
    frame = read_table(duckdb_path, f"marts.{name}")
    return frame.sort_values(MARTS[name]).reset_index(drop=True)


def assert_built(result: BuildResult) -> None:
    assert result.success, result.log[-4000:]


@pytest.fixture(scope="session")
def csv_warehouse(small_world_csv: Path, tmp_path_factory) -> BuildResult:
    duckdb_path = tmp_path_factory.mktemp("wh_csv") / "patchrisk.duckdb"
    result = build(BuildConfig(raw_dir=small_world_csv, duckdb_path=duckdb_path))
    assert_built(result)
    return result


def test_build_is_clean(csv_warehouse: BuildResult) -> None:
    statuses = {n.status for n in csv_warehouse.nodes}
    assert statuses <= {"success", "pass", "no-op"}, statuses
    assert "WARN=0" in csv_warehouse.log
    assert "WARNING" not in csv_warehouse.log
    unit_tests = [n for n in csv_warehouse.nodes if n.resource_type == "unit_test"]
    assert len(unit_tests) >= 6
    for name in MARTS:
        frame = read_mart(csv_warehouse.duckdb_path, name)
        assert name == "fct_quarantined_raw_rows" or len(frame) > 0, name
    outcomes = read_mart(csv_warehouse.duckdb_path, "fct_release_outcomes")
    assert outcomes["is_label_available"].sum() > 0
    assert outcomes["is_regression"].dropna().nunique() == 2


def test_parquet_world_gives_identical_marts(
    csv_warehouse: BuildResult, small_world_parquet: Path, tmp_path: Path
) -> None:
    duckdb_path = tmp_path / "patchrisk.duckdb"
    config = BuildConfig(raw_dir=small_world_parquet, raw_format="parquet", duckdb_path=duckdb_path)
    assert_built(run_dbt("run", config))
    for name in MARTS:
        pd.testing.assert_frame_equal(
            read_mart(duckdb_path, name), read_mart(csv_warehouse.duckdb_path, name), obj=name
        )


def test_features_are_point_in_time(
    csv_warehouse: BuildResult, small_world_csv: Path, tmp_path: Path
) -> None:
    """Features of releases up to a cut-off day are the same when every observation from
    the cut-off day on is removed: no feature can see its release's own rollout or later."""
    releases = pd.read_csv(small_world_csv / "firmware_releases.csv", parse_dates=["release_date"])
    cutoff = releases["release_date"].sort_values().iloc[len(releases) * 2 // 3]
    truncated = tmp_path / "raw"
    shutil.copytree(small_world_csv, truncated)
    for table, column in [
        ("daily_active_devices", "activity_date"),
        ("error_events", "occurred_at"),
        ("support_tickets", "opened_at"),
    ]:
        frame = pd.read_csv(truncated / f"{table}.csv", dtype=str)
        frame[pd.to_datetime(frame[column]) < cutoff].to_csv(
            truncated / f"{table}.csv", index=False
        )
    duckdb_path = tmp_path / "patchrisk.duckdb"
    config = BuildConfig(raw_dir=truncated, duckdb_path=duckdb_path, select="+fct_release_features")
    assert_built(run_dbt("run", config))

    def features_up_to_cutoff(path: Path) -> pd.DataFrame:
        frame = read_mart(path, "fct_release_features")
        frame = frame[pd.to_datetime(frame["release_date"]) <= cutoff]
        return frame.drop(columns=LABEL_COLUMNS).reset_index(drop=True)

    truncated_features = features_up_to_cutoff(duckdb_path)
    assert len(truncated_features) > len(releases) // 2
    pd.testing.assert_frame_equal(
        truncated_features, features_up_to_cutoff(csv_warehouse.duckdb_path)
    )


# --- fault injection -------------------------------------------------------------------

STAGING_FAULT_TESTS = {  # test name: failing rows, for the faults inject_faults writes
    "raw_fault__error_events__unknown_release": 1,
    "raw_fault__error_events__unknown_device": 1,
    "raw_fault__error_events__duplicate_event_id": 1,
    "raw_fault__daily_active_devices__non_positive_active_devices": 1,
    "raw_fault__firmware_releases__negative_lines_added": 1,
    "raw_fault__support_tickets__unknown_device": 1,
}


def inject_faults(raw_dir: Path) -> dict[tuple[str, str], int]:
    """Write one instance of each known raw fault; return the expected quarantine counts."""
    devices = pd.read_csv(raw_dir / "devices.csv", dtype=str)
    events = pd.read_csv(raw_dir / "error_events.csv", dtype=str)
    exposure = pd.read_csv(raw_dir / "daily_active_devices.csv", dtype=str)
    releases = pd.read_csv(raw_dir / "firmware_releases.csv", dtype=str)
    tickets = pd.read_csv(raw_dir / "support_tickets.csv", dtype=str)
    as_of = pd.to_datetime(exposure["activity_date"]).max()
    next_id = events["event_id"].astype(int).max() + 1
    template = events.iloc[0]
    device = devices.set_index("device_id").loc[template["device_id"]]

    def event(offset: int, **changes: str) -> dict[str, str]:
        return {**template.to_dict(), "event_id": str(next_id + offset), **changes}

    bad_events = [
        event(0, release_id="nosuch-9.9.9"),
        event(1, device_id="DEV-9999999"),
        events.iloc[1].to_dict(),  # duplicate event_id
        event(2, occurred_at=f"{pd.Timestamp(device['manufacture_date']) - timedelta(days=3)}"),
        event(3, occurred_at=f"{as_of + timedelta(days=5)}"),
    ]
    events = pd.concat([events, pd.DataFrame(bad_events)], ignore_index=True)
    exposure.loc[0, "active_devices"] = "-3"
    releases.loc[5, "lines_added"] = "-100"
    bad_ticket = {**tickets.iloc[0].to_dict(), "ticket_id": "TKT-BAD-1", "device_id": "DEV-9999999"}
    tickets = pd.concat([tickets, pd.DataFrame([bad_ticket])], ignore_index=True)
    for name, frame in [
        ("error_events", events),
        ("daily_active_devices", exposure),
        ("firmware_releases", releases),
        ("support_tickets", tickets),
    ]:
        frame.to_csv(raw_dir / f"{name}.csv", index=False)
    return {
        ("error_events", "unknown_release"): 1,
        ("error_events", "unknown_device"): 1,
        ("error_events", "duplicate_event_id"): 1,
        ("error_events", "occurred_before_manufacture"): 1,
        ("error_events", "occurred_after_as_of_date"): 1,
        ("daily_active_devices", "non_positive_active_devices"): 1,
        ("firmware_releases", "negative_code_change_count"): 1,
        ("support_tickets", "unknown_device"): 1,
    }


@pytest.fixture(scope="module")
def faulty_world(small_world_csv: Path, tmp_path_factory) -> tuple[Path, dict]:
    raw_dir = tmp_path_factory.mktemp("faulty_world")
    shutil.copytree(small_world_csv, raw_dir, dirs_exist_ok=True)
    return raw_dir, inject_faults(raw_dir)


def test_each_fault_is_named_and_quarantined(faulty_world, tmp_path: Path) -> None:
    raw_dir, expected = faulty_world
    duckdb_path = tmp_path / "patchrisk.duckdb"
    config = BuildConfig(
        raw_dir=raw_dir, duckdb_path=duckdb_path, dbt_vars={"raw_fault_severity": "warn"}
    )
    result = build(config)
    assert_built(result)
    assert quarantine_counts(duckdb_path) == expected
    assert result.tests_with_status("warn") == {
        **STAGING_FAULT_TESTS,
        **{f"quarantined__{table}__{reason}": n for (table, reason), n in expected.items()},
    }
    reconciliation = read_mart(duckdb_path, "fct_raw_row_reconciliation").set_index("source_table")
    assert reconciliation["excluded_row_count"].to_dict() == {
        "daily_active_devices": 1,
        "error_events": 5,
        "firmware_releases": 0,
        "support_tickets": 1,
    }
    assert reconciliation.loc["firmware_releases", "repaired_row_count"] == 1
    # the release with a negative count is kept, its counts nulled
    features = read_mart(duckdb_path, "fct_release_features")
    assert features.loc[features["lines_added"].isna()].shape[0] == 1


def test_faults_fail_the_build_by_default(faulty_world, tmp_path: Path) -> None:
    raw_dir, _ = faulty_world
    config = BuildConfig(
        raw_dir=raw_dir,
        duckdb_path=tmp_path / "patchrisk.duckdb",
        select="staging",
    )
    result = build(config)
    assert not result.success
    assert result.tests_with_status("fail") == STAGING_FAULT_TESTS
