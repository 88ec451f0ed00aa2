"""Plant raw-data faults in a generated world: one raw row per fault class, each with its own
key, so that a build's quarantine rows and raw_fault tests can be checked one by one. New rows
are added for most faults (copies of the table's first row with the faulty values); bad
release counts and a non-positive exposure change rows in place (neither spreads to other
tables)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ml.warehouse.raw_contract import contract

RAW_TABLES = [t.name for t in contract()]
KEY_COLUMNS = {  # the parts of fct_quarantined_raw_rows.raw_row_key
    "device_models": ["device_model_id"],
    "devices": ["device_id"],
    "firmware_releases": ["release_id"],
    "daily_active_devices": ["activity_date", "release_id", "device_model_id", "region"],
    "error_events": ["event_id"],
    "support_tickets": ["ticket_id"],
}
COUNT_COLUMNS = (
    "files_changed",
    "lines_added",
    "lines_deleted",
    "package_size_kb",
    "test_files_changed",
)
BEFORE_DATA = pd.Timestamp("2024-06-01")  # before the small world's first day

QuarantineRow = tuple[str, str, str]  # (source_table, raw_row_key, rejection_reason)
RowChanges = dict[str, str]


@dataclass(frozen=True)
class PlantedFaults:
    """What plant_csv_faults wrote."""

    quarantined: set[QuarantineRow]
    raw_rows: dict[str, int]  # rows per raw table after planting
    repaired_release: str  # the release whose lines_added is "lots"

    def reasons(self, table: str) -> set[str]:
        return {r for t, _, r in self.quarantined if t == table}

    def repaired_rows(self, table: str) -> int:
        return len(REPAIRS) if table == "firmware_releases" else 0


def raw_fault_tests(quarantined: set[QuarantineRow]) -> dict[str, int]:
    """The raw_fault test each quarantine row fails, with its failing rows."""
    tests: dict[str, int] = {}
    for table, _, reason in quarantined:
        name = f"raw_fault__{table}__{reason}"
        tests[name] = tests.get(name, 0) + 1
    return tests


def raw_row_key(table: str, row: dict) -> str:
    """The raw_row_key of a raw row: its key parts as staging types them, `<null>` for a
    missing or unparseable one."""

    def part(column: str) -> str:
        value = str(row[column])
        if column == "event_id" and not value.isdigit():
            return "<null>"
        if column == "activity_date" and pd.isna(pd.to_datetime(value, errors="coerce")):
            return "<null>"
        return value or "<null>"

    return "|".join(part(c) for c in KEY_COLUMNS[table])


# firmware_releases rows 1..11: a bad count keeps the release, its counts nulled
REPAIRS = [
    *[(f"missing_{c}", c, "") for c in COUNT_COLUMNS],
    *[(f"unparseable_{c}", c, "lots") for c in COUNT_COLUMNS],
    ("negative_code_change_count", "lines_added", "-100"),
]


def _appended_faults(raw: dict[str, pd.DataFrame]) -> dict[str, list[tuple[str, RowChanges]]]:
    """Per table, (reason, changes to the table's template row) for each row to append; no
    changes make a duplicate of the template row."""
    as_of = pd.to_datetime(raw["daily_active_devices"]["activity_date"]).max()
    event, ticket = raw["error_events"].iloc[0], raw["support_tickets"].iloc[0]
    made = raw["devices"].set_index("device_id")["manufacture_date"].map(pd.Timestamp)
    event_made, ticket_made = made[event["device_id"]], made[ticket["device_id"]]
    opened = pd.Timestamp(ticket["opened_at"])
    platform = raw["firmware_releases"].iloc[0]["platform_id"]

    def day(offset: int) -> str:
        return str((BEFORE_DATA + timedelta(days=offset)).date())

    def at(base: pd.Timestamp, days: int) -> str:
        return str(base + timedelta(days=days))

    return {
        "device_models": [
            ("missing_device_model_id", {"device_model_id": ""}),
            ("missing_platform_id", {"device_model_id": "DM-BAD-1", "platform_id": ""}),
            ("missing_launch_date", {"device_model_id": "DM-BAD-2", "launch_date": ""}),
            ("unparseable_launch_date", {"device_model_id": "DM-BAD-3", "launch_date": "someday"}),
            ("duplicate_device_model_id", {}),
        ],
        "devices": [
            ("missing_device_id", {"device_id": " "}),
            ("missing_manufacture_date", {"device_id": "DEV-BAD-1", "manufacture_date": ""}),
            ("unparseable_manufacture_date", {"device_id": "DEV-BAD-2", "manufacture_date": "x"}),
            ("duplicate_device_id", {}),
            ("unknown_device_model", {"device_id": "DEV-BAD-3", "device_model_id": "DM-NOSUCH"}),
            ("unknown_region", {"device_id": "DEV-BAD-4", "region": "mars"}),
            ("unknown_hardware_revision", {"device_id": "DEV-BAD-5", "hardware_revision": "rev_z"}),
        ],
        "firmware_releases": [
            ("missing_release_id", {"release_id": "", "release_date": day(0)}),
            ("missing_version", {"release_id": "fw-bad-1", "version": "", "release_date": day(1)}),
            ("missing_release_date", {"release_id": "fw-bad-2", "release_date": ""}),
            ("unparseable_release_date", {"release_id": "fw-bad-3", "release_date": "soon"}),
            (
                "unparseable_version",
                {"release_id": "fw-bad-4", "version": "5.x", "release_date": day(2)},
            ),
            ("duplicate_release_id", {}),
            (
                "duplicate_platform_release_date",
                {"release_id": f"{platform}-zz", "version": "99.0.0"},
            ),
            (
                "unknown_platform",
                {"release_id": "fw-bad-5", "platform_id": "nosuch", "release_date": day(3)},
            ),
            (
                "unknown_patch_type",
                {"release_id": "fw-bad-6", "patch_type": "yolo", "release_date": day(4)},
            ),
        ],
        "daily_active_devices": [
            ("missing_activity_date", {"activity_date": ""}),
            ("unparseable_activity_date", {"activity_date": "nope"}),
            ("missing_active_devices", {"activity_date": day(0), "active_devices": ""}),
            ("unparseable_active_devices", {"activity_date": day(1), "active_devices": "lots"}),
            ("unknown_release", {"release_id": "nosuch-9.9.9"}),
            ("unknown_device_model", {"device_model_id": "DM-NOSUCH"}),
            ("unknown_region", {"region": "mars"}),
            ("duplicate_exposure_row", {}),
        ],
        "error_events": [
            ("missing_event_id", {"event_id": ""}),
            ("unparseable_event_id", {"event_id": "abc"}),
            ("missing_occurred_at", {"event_id": "9000001", "occurred_at": ""}),
            ("unparseable_occurred_at", {"event_id": "9000002", "occurred_at": "yesterday"}),
            ("missing_error_code", {"event_id": "9000003", "error_code": ""}),
            ("unknown_device", {"event_id": "9000004", "device_id": "DEV-9999999"}),
            ("unknown_release", {"event_id": "9000005", "release_id": "nosuch-9.9.9"}),
            ("unknown_error_category", {"event_id": "9000006", "error_category": "gremlins"}),
            ("unknown_severity", {"event_id": "9000007", "severity": "apocalyptic"}),
            ("duplicate_event_id", {}),
            (
                "occurred_before_manufacture",
                {"event_id": "9000008", "occurred_at": at(event_made, -3)},
            ),
            ("occurred_after_as_of_date", {"event_id": "9000009", "occurred_at": at(as_of, 5)}),
        ],
        "support_tickets": [
            ("missing_ticket_id", {"ticket_id": ""}),
            ("missing_opened_at", {"ticket_id": "TKT-BAD-1", "opened_at": ""}),
            ("unparseable_opened_at", {"ticket_id": "TKT-BAD-2", "opened_at": "noonish"}),
            ("unparseable_resolved_at", {"ticket_id": "TKT-BAD-3", "resolved_at": "later"}),
            ("duplicate_ticket_id", {}),
            ("unknown_device", {"ticket_id": "TKT-BAD-4", "device_id": "DEV-9999999"}),
            ("unknown_symptom", {"ticket_id": "TKT-BAD-5", "symptom": "smoke"}),
            ("unknown_resolution", {"ticket_id": "TKT-BAD-6", "resolution": "prayer"}),
            ("resolved_before_opened", {"ticket_id": "TKT-BAD-7", "resolved_at": at(opened, -1)}),
            (
                "opened_before_manufacture",
                {
                    "ticket_id": "TKT-BAD-8",
                    "opened_at": at(ticket_made, -3),
                    "resolved_at": at(ticket_made, -2),
                },
            ),
            (
                "opened_after_as_of_date",
                {"ticket_id": "TKT-BAD-9", "opened_at": at(as_of, 5), "resolved_at": at(as_of, 6)},
            ),
        ],
    }


def plant_csv_faults(raw_dir: Path) -> PlantedFaults:
    """Write one raw row per fault class into the CSV world in `raw_dir`."""
    raw = {
        t: pd.read_csv(raw_dir / f"{t}.csv", dtype=str, keep_default_na=False) for t in RAW_TABLES
    }
    appended = _appended_faults(raw)
    releases, exposure = raw["firmware_releases"], raw["daily_active_devices"]
    quarantined: set[QuarantineRow] = set()
    for row, (reason, column, value) in enumerate(REPAIRS, start=1):
        releases.loc[row, column] = value
        quarantined.add(("firmware_releases", releases.loc[row, "release_id"], reason))
    last = exposure.index[-1]
    exposure.loc[last, "active_devices"] = "-3"
    exposure_key = raw_row_key("daily_active_devices", exposure.loc[last])
    quarantined.add(("daily_active_devices", exposure_key, "non_positive_active_devices"))
    for table, faults in appended.items():
        template = raw[table].iloc[0].to_dict()
        rows = [{**template, **changes} for _, changes in faults]
        raw[table] = pd.concat([raw[table], pd.DataFrame(rows)], ignore_index=True)
        for (reason, _), row in zip(faults, rows, strict=True):
            quarantined.add((table, raw_row_key(table, row), reason))
    for table, frame in raw.items():
        frame.to_csv(raw_dir / f"{table}.csv", index=False)
    lots = releases.loc[releases["lines_added"] == "lots", "release_id"].iloc[0]
    return PlantedFaults(quarantined, {t: len(f) for t, f in raw.items()}, lots)


def _rewrite_parquet(path: Path, change) -> pa.Table:
    table = change(pq.read_table(path))
    pq.write_table(table, path)
    return table


def _with_value(table: pa.Table, column: str, row: int, value) -> pa.Table:
    index = table.schema.get_field_index(column)
    values = table[column].to_pylist()
    values[row] = value
    return table.set_column(index, column, pa.array(values, table.schema.field(index).type))


def _as_text(table: pa.Table, column: str) -> pa.Table:
    index = table.schema.get_field_index(column)
    return table.set_column(index, column, table[column].cast(pa.string()))


def _with_copy_of_first_row(table: pa.Table, **changes) -> pa.Table:
    row = {**table.slice(0, 1).to_pylist()[0], **changes}
    return pa.concat_tables([table, pa.Table.from_pylist([row], schema=table.schema)])


def plant_parquet_faults(raw_dir: Path) -> set[QuarantineRow]:
    """Faults in the typed columns of the Parquet world in `raw_dir`: text in an integer
    column, an integer that overflows its staging type, typed nulls in required columns.
    Returns the quarantine rows they make."""
    releases = _rewrite_parquet(
        raw_dir / "firmware_releases.parquet",
        lambda t: _with_value(_as_text(t, "lines_added"), "lines_added", 3, "lots"),
    )
    exposure = _rewrite_parquet(
        raw_dir / "daily_active_devices.parquet",
        lambda t: _with_value(t, "active_devices", 0, 3_000_000_000),
    )
    _rewrite_parquet(
        raw_dir / "error_events.parquet",
        lambda t: _with_copy_of_first_row(
            _with_copy_of_first_row(t, event_id=None), event_id=9000001, occurred_at=None
        ),
    )
    _rewrite_parquet(
        raw_dir / "support_tickets.parquet",
        lambda t: _with_copy_of_first_row(t, ticket_id="TKT-BAD-1", opened_at=None),
    )
    first_exposure = exposure.slice(0, 1).to_pylist()[0]
    return {
        ("firmware_releases", releases["release_id"][3].as_py(), "unparseable_lines_added"),
        (
            "daily_active_devices",
            raw_row_key("daily_active_devices", first_exposure),
            "unparseable_active_devices",
        ),
        ("error_events", "<null>", "missing_event_id"),
        ("error_events", "9000001", "missing_occurred_at"),
        ("support_tickets", "TKT-BAD-1", "missing_opened_at"),
    }
