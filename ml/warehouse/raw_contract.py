"""The raw-data contract, checked before dbt runs.

The contract is the dbt source `fleet` in dbt_project/models/staging/fleet/_fleet__sources.yml:
its tables, each table's columns, and whether the table must have rows (true unless the
table's `config.meta.rows_required` is false). This module reads it from there, so the yml is
the one place it is written down. `check_raw_dir` compares each raw file's header (the CSV
header line, the Parquet schema) with it and names every problem in one line, instead of the
DuckDB Binder error dbt would give half-way through a build.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from ml.errors import BadInputError
from ml.warehouse.dbt import PROJECT_DIR

SOURCES_YML = PROJECT_DIR / "models/staging/fleet/_fleet__sources.yml"
SOURCE_NAME = "fleet"
RawFormat = Literal["csv", "parquet"]


@dataclass(frozen=True)
class RawTable:
    """One raw table of the contract."""

    name: str
    columns: tuple[str, ...]
    rows_required: bool


@dataclass(frozen=True)
class RawHeader:
    """What a raw file declares: its columns (None when it has no header at all) and whether
    any row follows."""

    columns: tuple[str, ...] | None
    has_rows: bool


def parse_contract(sources_yml: str) -> tuple[RawTable, ...]:
    """The raw tables of the `fleet` source in a dbt sources yml, in their order there."""
    (source,) = [s for s in yaml.safe_load(sources_yml)["sources"] if s["name"] == SOURCE_NAME]
    return tuple(
        RawTable(
            name=table["name"],
            columns=tuple(column["name"] for column in table["columns"]),
            rows_required=table.get("config", {}).get("meta", {}).get("rows_required", True),
        )
        for table in source["tables"]
    )


@cache
def contract() -> tuple[RawTable, ...]:
    """The raw contract of this project (read once from SOURCES_YML)."""
    return parse_contract(SOURCES_YML.read_text())


def _columns(names: list[str]) -> str:
    return f"column{'s' if len(names) > 1 else ''} {', '.join(names)}"


def header_problem(table: RawTable, header: RawHeader) -> str | None:
    """What is wrong with a raw file's header for `table` (None when nothing is)."""
    if header.columns is None:
        return "empty file (no header)"
    problems = []
    duplicated = sorted({c for c in header.columns if header.columns.count(c) > 1})
    missing = [c for c in table.columns if c not in header.columns]
    unexpected = [c for c in header.columns if c not in table.columns]
    if missing:
        problems.append(f"missing {_columns(missing)}")
    if unexpected:
        problems.append(f"unexpected {_columns(unexpected)}")
    if duplicated:
        problems.append(f"duplicate {_columns(duplicated)}")
    if not problems and table.rows_required and not header.has_rows:
        problems.append("no rows (a header only)")
    return "; ".join(problems) or None


def read_header(path: Path, fmt: RawFormat) -> RawHeader:
    """The header of a raw file: the first CSV line (and whether a non-blank line follows),
    or the Parquet schema (and its row count). An unreadable file raises BadInputError."""
    try:
        if fmt == "parquet":
            parquet = pq.ParquetFile(path)
            return RawHeader(tuple(parquet.schema_arrow.names), parquet.metadata.num_rows > 0)
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            rows = csv.reader(handle)
            header = next(rows, None)
            has_rows = any(any(cell.strip() for cell in row) for row in rows)
        return RawHeader(tuple(header) if header else None, has_rows)
    except (pa.ArrowException, OSError, csv.Error) as exc:
        kind = "a readable Parquet file" if fmt == "parquet" else "a readable CSV file"
        raise BadInputError(f"{path}: not {kind} ({type(exc).__name__})") from exc


def check_raw_dir(raw_dir: Path, fmt: RawFormat) -> None:
    """Raise BadInputError naming each raw file of `raw_dir` that is missing, unreadable or
    breaks the contract (all in one line)."""
    if not Path(raw_dir).is_dir():
        raise BadInputError(f"{raw_dir}: no such folder")
    problems = []
    for table in contract():
        path = Path(raw_dir) / f"{table.name}.{fmt}"
        try:
            if not path.is_file():
                raise BadInputError(f"{path}: no such file")
            problem = header_problem(table, read_header(path, fmt))
        except BadInputError as exc:
            problems.append(str(exc))
            continue
        if problem:
            problems.append(f"{path}: {problem}")
    if problems:
        raise BadInputError("; ".join(problems))
