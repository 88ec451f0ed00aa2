"""ml.warehouse.raw_contract: raw file headers against the contract in the dbt sources yml, and
`patchrisk build` refusing a broken raw folder with one line and exit 2 before dbt runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ml.cli import main
from ml.errors import BadInputError
from ml.warehouse.raw_contract import (
    RawHeader,
    RawTable,
    check_raw_dir,
    contract,
    header_problem,
    parse_contract,
    read_header,
)

TICKETS = RawTable("support_tickets", ("ticket_id", "opened_at"), rows_required=False)
EVENTS = RawTable("error_events", ("event_id", "occurred_at"), rows_required=True)


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (RawHeader(("event_id", "occurred_at"), True), None),
        (RawHeader(("occurred_at", "event_id"), True), None),  # read by name, in any order
        (RawHeader(("event_id",), True), "missing column occurred_at"),
        (RawHeader((), False), "missing columns event_id, occurred_at"),
        (RawHeader(("event_id", "occurred_at", "note"), True), "unexpected column note"),
        (
            RawHeader(("event_id", "occured_at"), True),
            "missing column occurred_at; unexpected column occured_at",
        ),
        (
            RawHeader(("event_id", "occurred_at", "event_id"), True),
            "duplicate column event_id",
        ),
        (RawHeader(None, False), "empty file (no header)"),
        (RawHeader(("event_id", "occurred_at"), False), "no rows (a header only)"),
    ],
)
def test_header_problem(header: RawHeader, problem: str | None) -> None:
    assert header_problem(EVENTS, header) == problem


def test_a_table_may_allow_a_header_without_rows() -> None:
    assert header_problem(TICKETS, RawHeader(("ticket_id", "opened_at"), False)) is None
    assert header_problem(TICKETS, RawHeader(None, False)) == "empty file (no header)"


def test_parse_contract_reads_the_fleet_source() -> None:
    yml = """
sources:
  - name: ml
    tables: [{name: scores, columns: [{name: score}]}]
  - name: fleet
    tables:
      - name: devices
        columns: [{name: device_id}, {name: region}]
      - name: support_tickets
        config: {meta: {rows_required: false}}
        columns: [{name: ticket_id}]
"""
    assert parse_contract(yml) == (
        RawTable("devices", ("device_id", "region"), rows_required=True),
        RawTable("support_tickets", ("ticket_id",), rows_required=False),
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_generated_worlds_write_the_contract(
    fmt: str, small_world_csv, small_world_parquet
) -> None:
    """The generator and the sources yml agree: same tables, same columns in the same order."""
    raw_dir = small_world_csv if fmt == "csv" else small_world_parquet
    for table in contract():
        assert read_header(raw_dir / f"{table.name}.{fmt}", fmt) == RawHeader(table.columns, True)
    check_raw_dir(raw_dir, fmt)


@pytest.fixture
def csv_world(small_world_csv: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(small_world_csv, tmp_path / "raw"))


@pytest.fixture
def parquet_world(small_world_parquet: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(small_world_parquet, tmp_path / "raw"))


def rewrite_csv_header(path: Path, header: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(header + "\n" + "".join(lines[1:]))


def assert_refused(raw_dir: Path, fmt: str, message: str) -> None:
    with pytest.raises(BadInputError) as caught:
        check_raw_dir(raw_dir, fmt)
    assert str(caught.value) == message


def test_csv_missing_and_unexpected_columns(csv_world: Path) -> None:
    path = csv_world / "error_events.csv"
    rewrite_csv_header(
        path, "event_id,device_id,release_id,occurred_at,error_code,error_category,sev"
    )
    assert_refused(csv_world, "csv", f"{path}: missing column severity; unexpected column sev")


def test_csv_empty_file_and_header_only(csv_world: Path) -> None:
    (csv_world / "devices.csv").write_text("")
    releases = csv_world / "firmware_releases.csv"
    releases.write_text(releases.read_text().splitlines()[0] + "\n\n")
    tickets = csv_world / "support_tickets.csv"
    tickets.write_text(tickets.read_text().splitlines()[0] + "\n")  # may be empty
    assert_refused(
        csv_world,
        "csv",
        f"{csv_world / 'devices.csv'}: empty file (no header); {releases}: no rows (a header only)",
    )


def test_parquet_missing_column_empty_table_and_not_parquet(parquet_world: Path) -> None:
    exposure = parquet_world / "daily_active_devices.parquet"
    pq.write_table(pq.read_table(exposure).drop_columns(["region"]), exposure)
    models = parquet_world / "device_models.parquet"
    pq.write_table(pq.read_table(models).slice(0, 0), models)
    events = parquet_world / "error_events.parquet"
    events.write_bytes(b"event_id,device_id\n1,DEV-1\n")
    assert_refused(
        parquet_world,
        "parquet",
        f"{models}: no rows (a header only); {exposure}: missing column region; "
        f"{events}: not a readable Parquet file (ArrowInvalid)",
    )


def test_parquet_unexpected_column(parquet_world: Path) -> None:
    path = parquet_world / "devices.parquet"
    table = pq.read_table(path)
    pq.write_table(table.append_column("colour", pa.array(["red"] * table.num_rows)), path)
    assert_refused(parquet_world, "parquet", f"{path}: unexpected column colour")


def test_missing_file_and_folder(csv_world: Path) -> None:
    (csv_world / "support_tickets.csv").unlink()
    assert_refused(csv_world, "csv", f"{csv_world / 'support_tickets.csv'}: no such file")
    assert_refused(csv_world / "nope", "csv", f"{csv_world / 'nope'}: no such folder")


def test_build_refuses_a_broken_raw_file_with_one_line(csv_world: Path, tmp_path: Path) -> None:
    """Exit 2 and one line naming the file and the column, before dbt runs (no warehouse)."""
    path = csv_world / "firmware_releases.csv"
    header = path.read_text().splitlines()[0].replace('"lines_added",', "")
    rewrite_csv_header(path, header)
    warehouse = tmp_path / "wh" / "patchrisk.duckdb"
    args = ["build", "--raw-dir", str(csv_world), "--warehouse", str(warehouse)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [f"error: {path}: missing column lines_added"]
    assert not warehouse.parent.exists()
