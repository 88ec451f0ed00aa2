"""dbt build on generated worlds: clean build, csv/parquet parity, point in time, raw faults."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from ml.errors import BadInputError
from ml.gate.scoring import candidates_from_releases
from ml.warehouse.dbt import BuildConfig, BuildResult, NodeProgress, build, read_table, run_dbt
from tests.dbt.raw_faults import (
    RAW_TABLES,
    PlantedFaults,
    QuarantineRow,
    plant_csv_faults,
    plant_parquet_faults,
    raw_fault_tests,
)

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
def csv_build(small_world_csv: Path, tmp_path_factory) -> tuple[BuildResult, list[NodeProgress]]:
    """The small CSV world built, with the progress `build` reported on the way."""
    duckdb_path = tmp_path_factory.mktemp("wh_csv") / "patchrisk.duckdb"
    progress: list[NodeProgress] = []
    result = build(BuildConfig(raw_dir=small_world_csv, duckdb_path=duckdb_path), progress.append)
    assert_built(result)
    return result, progress


@pytest.fixture(scope="session")
def csv_warehouse(csv_build: tuple[BuildResult, list[NodeProgress]]) -> BuildResult:
    return csv_build[0]


def test_build_reports_every_node_once(csv_build) -> None:
    result, progress = csv_build
    nodes = [n for n in result.nodes if n.resource_type != "operation"]  # hooks: not shown
    assert sorted(p.index for p in progress) == list(range(1, len(nodes) + 1))
    assert {p.total for p in progress} == {len(nodes)}
    assert {p.status for p in progress} <= {"ok", "pass", "no-op"}
    models = {n.name for n in nodes if n.resource_type == "model"}
    assert models <= {p.name for p in progress}
    assert f"{len(models)} models ok" in result.summary()


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


# --- raw faults: one world with one raw row per fault class (tests/dbt/raw_faults.py) ---


@pytest.fixture(scope="module")
def faulty_world(small_world_csv: Path, tmp_path_factory) -> tuple[Path, PlantedFaults]:
    raw_dir = tmp_path_factory.mktemp("faulty_world")
    shutil.copytree(small_world_csv, raw_dir, dirs_exist_ok=True)
    return raw_dir, plant_csv_faults(raw_dir)


@pytest.fixture(scope="module")
def faulty_warehouse(faulty_world, tmp_path_factory) -> BuildResult:
    """The faulty world built under raw_fault_severity=warn."""
    raw_dir, _ = faulty_world
    duckdb_path = tmp_path_factory.mktemp("wh_faulty") / "patchrisk.duckdb"
    warn = {"raw_fault_severity": "warn"}
    return build(BuildConfig(raw_dir=raw_dir, duckdb_path=duckdb_path, dbt_vars=warn))


@pytest.fixture
def only_tests_of_selected_models(monkeypatch) -> None:
    """`--select +model` runs no test that also reads unselected models (dbt's cautious
    indirect selection)."""
    monkeypatch.setenv("DBT_INDIRECT_SELECTION", "cautious")


def quarantined_rows(duckdb_path: Path) -> set[QuarantineRow]:
    frame = read_table(duckdb_path, "marts.fct_quarantined_raw_rows")
    columns = ["source_table", "raw_row_key", "rejection_reason"]
    return set(frame[columns].itertuples(index=False, name=None))


def assert_reconciled(duckdb_path: Path, raw_rows: dict[str, int]) -> pd.DataFrame:
    """Every raw row of the six tables is accepted or excluded, once; returns the mart."""
    frame = read_mart(duckdb_path, "fct_raw_row_reconciliation").set_index("source_table")
    assert frame["raw_row_count"].to_dict() == raw_rows
    accounted = frame["accepted_row_count"] + frame["excluded_row_count"]
    assert frame["raw_row_count"].equals(accounted)
    return frame


def test_warn_quarantines_every_fault_class_and_builds(faulty_world, faulty_warehouse) -> None:
    """Under warn the build passes; each fault class warns once, by its own test, and its row
    is in fct_quarantined_raw_rows; every raw_fault test of the project has a planted fault."""
    _, planted = faulty_world
    assert_built(faulty_warehouse)
    assert quarantined_rows(faulty_warehouse.duckdb_path) == planted.quarantined
    expected_tests = raw_fault_tests(planted.quarantined)
    assert faulty_warehouse.tests_with_status("warn") == expected_tests
    project_tests = {n.name for n in faulty_warehouse.nodes if n.name.startswith("raw_fault__")}
    assert project_tests == set(expected_tests) and len(project_tests) == 64


def test_reconciliation_is_exact_on_a_faulty_world(faulty_world, faulty_warehouse) -> None:
    _, planted = faulty_world
    frame = assert_reconciled(faulty_warehouse.duckdb_path, planted.raw_rows)
    assert frame["repaired_row_count"].to_dict() == {
        t: planted.repaired_rows(t) for t in RAW_TABLES
    }
    assert frame["excluded_row_count"].to_dict() == {
        t: len(planted.reasons(t)) - planted.repaired_rows(t) for t in RAW_TABLES
    }


def test_a_repaired_release_is_quarantined_as_the_gate_says(faulty_world, faulty_warehouse) -> None:
    """`lines_added = "lots"`: the release is kept with its counts nulled, a quarantine row
    names it, and the gate's refusal to score it says so."""
    _, planted = faulty_world
    release = planted.repaired_release
    assert ("firmware_releases", release, "unparseable_lines_added") in quarantined_rows(
        faulty_warehouse.duckdb_path
    )
    features = read_mart(faulty_warehouse.duckdb_path, "fct_release_features")
    counts = features.set_index("release_id").loc[release, ["lines_added", "package_size_kb"]]
    assert counts.isna().all()
    with (
        duckdb.connect(str(faulty_warehouse.duckdb_path), read_only=True) as con,
        pytest.raises(BadInputError, match=f"--release {release}: .* quarantined"),
    ):
        candidates_from_releases(con, [release])


@pytest.mark.usefixtures("only_tests_of_selected_models")
def test_faults_fail_the_build_by_default(faulty_world, tmp_path: Path) -> None:
    """Under error each fault class fails its own test, and what reads the faults is skipped."""
    raw_dir, planted = faulty_world
    duckdb_path = tmp_path / "patchrisk.duckdb"
    result = build(
        BuildConfig(raw_dir, duckdb_path=duckdb_path, select="+fct_raw_row_reconciliation")
    )
    assert not result.success
    assert result.tests_with_status("fail") == raw_fault_tests(planted.quarantined)
    assert {n.name: n.status for n in result.nodes}["fct_raw_row_reconciliation"] == "skipped"


@pytest.mark.usefixtures("only_tests_of_selected_models")
def test_typed_parquet_faults_are_quarantined(small_world_parquet: Path, tmp_path: Path) -> None:
    raw_dir = tmp_path / "raw"
    shutil.copytree(small_world_parquet, raw_dir)
    expected = plant_parquet_faults(raw_dir)
    config = BuildConfig(
        raw_dir=raw_dir,
        raw_format="parquet",
        duckdb_path=tmp_path / "patchrisk.duckdb",
        dbt_vars={"raw_fault_severity": "warn"},
        select="+fct_raw_row_reconciliation",
    )
    result = build(config)
    assert_built(result)
    assert quarantined_rows(config.duckdb_path) == expected
    assert result.tests_with_status("warn") == raw_fault_tests(expected)
    raw_rows = {t: pq.read_metadata(raw_dir / f"{t}.parquet").num_rows for t in RAW_TABLES}
    assert_reconciled(config.duckdb_path, raw_rows)
