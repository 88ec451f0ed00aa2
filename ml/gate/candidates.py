"""Candidate patches for the CI gate: read a CSV or JSON file and check it row by row.

Everything here needs the input only; the checks against the warehouse (known platform,
version not yet released, planned date after the platform's latest release) live in
`ml.gate.scoring`. Every problem raises BadInputError with one line naming the row and the column.

Input schema (docs/gate.md):

| column               | type                | rule                                          |
|----------------------|---------------------|-----------------------------------------------|
| version              | text                | MAJOR.MINOR.PATCH, no leading zeros (SemVer), |
|                      |                     | each number below 10^9 (an int32 in the SQL)  |
| platform_id          | text                | a platform of the warehouse                   |
| patch_type           | text                | bugfix / feature / security / hotfix          |
| files_changed        | integer             | 0 .. 2^31-1                                   |
| lines_added          | integer             | 0 .. 2^31-1                                   |
| lines_deleted        | integer             | 0 .. 2^31-1                                   |
| components_touched   | text, optional      | `a|b`, known components, empty = none         |
| package_size_kb      | integer, optional   | 0 .. 2^31-1; empty = unknown (a missing value)|
| test_files_changed   | integer             | 0 .. files_changed                            |
| planned_release_date | YYYY-MM-DD, optional| 1900-01-01 .. 2199-12-31; empty = the day     |
|                      |                     | after the data's as-of date                   |

Digits are ASCII only: Python's int() and regex `\\d` also accept other scripts' digits
(Arabic-Indic, fullwidth ...), which would make a fullwidth 5.5.0 a new version beside the
released 5.5.0. A JSON object with a repeated key is refused (json keeps the last silently).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ml.errors import BadInputError
from ml.gate.release_attributes import COMPONENTS, PATCH_TYPES, RAW_COUNT_COLUMNS

MAX_INPUT_BYTES = 16 * 1024 * 1024  # 16 MiB: ~150k patches as CSV
MAX_PATCHES = 100_000
MAX_COUNT = 2**31 - 1  # the warehouse types counts as 32-bit integers
REQUIRED_COLUMNS: tuple[str, ...] = (
    "version",
    "platform_id",
    "patch_type",
    "files_changed",
    "lines_added",
    "lines_deleted",
    "test_files_changed",
)
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "components_touched",
    "package_size_kb",
    "planned_release_date",
)
INPUT_COLUMNS: tuple[str, ...] = (
    "version",
    "platform_id",
    "patch_type",
    "files_changed",
    "lines_added",
    "lines_deleted",
    "components_touched",
    "package_size_kb",
    "test_files_changed",
    "planned_release_date",
)
InputFormat = Literal["auto", "csv", "json"]
# SemVer 2.0 core: no leading zeros, so one version has one spelling; 9 digits fit int32.
_VERSION_PART = r"(?:0|[1-9][0-9]{0,8})"
_VERSION = rf"{_VERSION_PART}\.{_VERSION_PART}\.{_VERSION_PART}"
_COUNT = r"\+?[0-9]+"  # leading zeros and a plus sign allowed
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# Longer JSON integers stay text (int() refuses more than 4,300 digits); the count check
# then reports them as too large.
_MAX_JSON_INTEGER_DIGITS = 19
# Planned dates the gate's day arithmetic handles (nanosecond timestamps end in 2262).
FIRST_PLANNED_DATE, LAST_PLANNED_DATE = pd.Timestamp("1900-01-01"), pd.Timestamp("2199-12-31")
_NOT_SCALAR = "\x00not-a-scalar"


@dataclass(frozen=True)
class Candidates:
    """Checked candidate patches: one row per patch, INPUT_COLUMNS typed (counts int64,
    package_size_kb Int64 with NA for unknown, planned_release_date datetime64 or NaT),
    plus `row` (1-based position in the input); `facts`: how a git change gave them."""

    frame: pd.DataFrame
    source: str
    input_format: str
    sha256: str | None
    facts: dict | None = None


def _where(source: str, row: int, column: str | None = None) -> str:
    return f"{source} row {row}" + (f", column {column}" if column else "")


def shown(value: str, limit: int = 40) -> str:
    """A cell quoted for a one-line message, cut to `limit` characters."""
    return repr(value if len(value) <= limit else value[: limit - 3] + "...")


def read_bytes(path: str) -> tuple[bytes, str]:
    """The raw input (a file, or stdin for '-') and its display name; limited in size."""
    if path == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        name = "<stdin>"
    else:
        p = Path(path)
        if not p.exists():
            raise BadInputError(f"no input file {path}")
        if not p.is_file():
            raise BadInputError(f"{path} is not a file")
        size = p.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise BadInputError(
                f"{path} is {size:,} bytes; the gate reads at most {MAX_INPUT_BYTES:,} bytes "
                f"({MAX_PATCHES:,} patches): split the file"
            )
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise BadInputError(f"cannot read {path}: {exc.strerror}") from exc
        name = path
    if len(data) > MAX_INPUT_BYTES:
        raise BadInputError(
            f"{name} is larger than {MAX_INPUT_BYTES:,} bytes, the gate's limit: split it"
        )
    return data, name


def _decode(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{name} is not UTF-8 text (byte {exc.start})") from exc
    if "\x00" in text:
        raise BadInputError(f"{name} contains NUL bytes: not a text file")
    if not text.strip():
        raise BadInputError(f"{name} is empty: no patches to gate")
    return text


def detect_format(text: str, name: str, requested: InputFormat) -> str:
    if requested != "auto":
        return requested
    suffix = Path(name).suffix.lower()
    if suffix in (".json", ".csv"):
        return suffix[1:]
    return "json" if text.lstrip()[:1] in ("[", "{") else "csv"


def _check_columns(columns: list[str], name: str) -> None:
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise BadInputError(f"{name}: column {shown(column)} appears twice")
        seen.add(column)
    unknown = [c for c in columns if c not in INPUT_COLUMNS]
    if unknown:
        raise BadInputError(
            f"{name}: unknown column(s) {', '.join(map(shown, unknown))}; "
            f"expected {', '.join(INPUT_COLUMNS)}"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise BadInputError(f"{name}: missing column(s) {', '.join(missing)}")


def parse_csv(text: str, name: str) -> pd.DataFrame:
    """Every cell as text; one row per CSV record (blank lines skipped)."""
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise BadInputError(f"{name}: malformed CSV: {exc}") from exc
    header = [h.strip() for h in records[0]]
    _check_columns(header, name)
    rows: list[list[str]] = []
    lines: list[int] = []
    for number, record in enumerate(records[1:], start=2):
        if not record or all(not cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            raise BadInputError(
                f"{name} row {len(rows) + 1} (line {number}): {len(record)} fields, "
                f"the header has {len(header)}"
            )
        rows.append(record)
        lines.append(number)
        if len(rows) > MAX_PATCHES:
            raise BadInputError(f"{name}: more than {MAX_PATCHES:,} patches; split the file")
    if not rows:
        raise BadInputError(f"{name} has a header but no patches")
    return pd.DataFrame(rows, columns=header, dtype=object)


def _json_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (int, str)):
        return str(value)
    return _NOT_SCALAR


class _JsonObject(dict):
    """A JSON object that remembers its first repeated key (None: every key once)."""

    repeated: str | None = None


def _json_object(pairs: list[tuple[str, object]]) -> _JsonObject:
    obj = _JsonObject(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        obj.repeated = next(k for k, _ in pairs if k in seen or seen.add(k))
    return obj


def _json_integer(digits: str) -> int | str:
    return int(digits) if len(digits.lstrip("-")) <= _MAX_JSON_INTEGER_DIGITS else digits


def _load_json(text: str, name: str) -> object:
    try:
        return json.loads(text, object_pairs_hook=_json_object, parse_int=_json_integer)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{name}: invalid JSON: {exc}") from exc
    except RecursionError as exc:
        raise BadInputError(f"{name}: invalid JSON: nested too deeply") from exc


def _check_keys(obj: _JsonObject, where: str) -> None:
    if obj.repeated is not None:
        raise BadInputError(f"{where}: key {shown(obj.repeated)} appears twice")


def parse_json(text: str, name: str) -> pd.DataFrame:
    """A JSON array of objects, or {"patches": [...]}; every cell as text."""
    data = _load_json(text, name)
    if isinstance(data, dict):
        _check_keys(data, name)
        extra = sorted(set(data) - {"patches"})
        if extra or "patches" not in data:
            raise BadInputError(f'{name}: expected a list of patches or {{"patches": [...]}}')
        data = data["patches"]
    if not isinstance(data, list):
        raise BadInputError(f"{name}: expected a JSON list of patch objects")
    if not data:
        raise BadInputError(f"{name} has no patches")
    if len(data) > MAX_PATCHES:
        raise BadInputError(f"{name}: more than {MAX_PATCHES:,} patches; split the file")
    columns: list[str] = []
    for i, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise BadInputError(f"{_where(name, i)}: expected an object, got {type(item).__name__}")
        _check_keys(item, _where(name, i))
        for key in item:
            if key not in columns:
                columns.append(key)
    _check_columns(columns, name)
    for i, item in enumerate(data, start=1):
        missing = [c for c in REQUIRED_COLUMNS if c not in item]
        if missing:
            raise BadInputError(f"{_where(name, i, missing[0])}: missing")
    cells = [[_json_cell(item.get(c)) for c in columns] for item in data]
    return pd.DataFrame(cells, columns=columns, dtype=object)


def _first_bad(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0])


def _count_problem(value: str) -> str:
    """Why `value` (stripped text) is not a count."""
    if value == _NOT_SCALAR:
        return "expected a number, got a list or an object"
    if value == "":
        return "missing value"
    if value.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return f"{value} is not allowed (a count must be finite)"
    if re.fullmatch(r"-0*[1-9][0-9]*(\.0*)?", value):
        return f"negative count {shown(value)}"
    return f"{shown(value)} is not a non-negative integer (ASCII digits)"


def _integer_column(text: pd.Series, column: str, name: str) -> pd.Series:
    s = text.str.strip()
    ok = s.str.fullmatch(_COUNT)
    if not ok.all():
        i = _first_bad(~ok)
        raise BadInputError(f"{_where(name, i + 1, column)}: {_count_problem(s.iloc[i])}")
    digits = s.str.lstrip("+").str.lstrip("0").replace("", "0")
    too_big = digits.str.len() > len(str(MAX_COUNT))
    values = digits.where(~too_big, "0").astype("int64")
    too_big |= values > MAX_COUNT
    if too_big.any():
        i = _first_bad(too_big)
        raise BadInputError(
            f"{_where(name, i + 1, column)}: {shown(s.iloc[i])} is larger than {MAX_COUNT}"
        )
    return values


def _optional_integer_column(cells: pd.DataFrame, column: str, name: str) -> pd.Series:
    """A count that may be left empty (or the column left out): NA = unknown."""
    if column not in cells:
        return pd.Series(pd.NA, index=pd.RangeIndex(len(cells)), dtype="Int64")
    s = cells[column].astype(str).str.strip()
    present = s != ""
    values = _integer_column(s.where(present, "0"), column, name).astype("Int64")
    return values.where(present, pd.NA)


def _text_column(text: pd.Series, column: str, name: str) -> pd.Series:
    s = text.str.strip()
    bad = (s == "") | (s == _NOT_SCALAR)
    if bad.any():
        i = _first_bad(bad)
        problem = "missing value" if s.iloc[i] == "" else "expected text, got a list or object"
        raise BadInputError(f"{_where(name, i + 1, column)}: {problem}")
    return s


def check_candidates(cells: pd.DataFrame, name: str) -> pd.DataFrame:
    """Typed INPUT_COLUMNS from text cells; the first problem raises BadInputError."""
    out = pd.DataFrame(index=pd.RangeIndex(len(cells)))
    for column in ("version", "platform_id", "patch_type"):
        out[column] = _text_column(cells[column].astype(str), column, name).to_numpy()
    bad = ~out["version"].str.fullmatch(_VERSION)
    if bad.any():
        i = _first_bad(bad)
        raise BadInputError(
            f"{_where(name, i + 1, 'version')}: {shown(out['version'].iloc[i])} is not "
            "MAJOR.MINOR.PATCH (ASCII digits, no leading zeros)"
        )
    bad = ~out["patch_type"].isin(PATCH_TYPES)
    if bad.any():
        i = _first_bad(bad)
        raise BadInputError(
            f"{_where(name, i + 1, 'patch_type')}: unknown patch type "
            f"{shown(out['patch_type'].iloc[i])} (expected {', '.join(PATCH_TYPES)})"
        )
    for column in RAW_COUNT_COLUMNS:
        if column in OPTIONAL_COLUMNS:
            out[column] = _optional_integer_column(cells, column, name).to_numpy()
        else:
            out[column] = _integer_column(cells[column].astype(str), column, name).to_numpy()
    bad = out["test_files_changed"] > out["files_changed"]
    if bad.any():
        i = _first_bad(bad)
        raise BadInputError(
            f"{_where(name, i + 1, 'test_files_changed')}: {out['test_files_changed'].iloc[i]} "
            f"test files changed, more than files_changed {out['files_changed'].iloc[i]}"
        )
    out["components_touched"] = _components(cells, name)
    out["planned_release_date"] = _planned_dates(cells, name)
    duplicated = out.duplicated(["platform_id", "version"], keep=False)
    if duplicated.any():
        rows = np.flatnonzero(duplicated.to_numpy())
        first = out.iloc[rows[0]]
        same = rows[
            (out["platform_id"].iloc[rows] == first["platform_id"]).to_numpy()
            & (out["version"].iloc[rows] == first["version"]).to_numpy()
        ]
        raise BadInputError(
            f"{_where(name, int(same[1]) + 1, 'version')}: duplicate version "
            f"{shown(first['platform_id'])} {first['version']} (also row {int(same[0]) + 1})"
        )
    out.insert(0, "row", np.arange(1, len(out) + 1))
    return out


def _components(cells: pd.DataFrame, name: str) -> pd.Series:
    if "components_touched" not in cells:
        return pd.Series([""] * len(cells), dtype=object)
    s = cells["components_touched"].astype(str).str.strip()
    for i, value in enumerate(s.tolist()):
        if value == _NOT_SCALAR:
            raise BadInputError(
                f"{_where(name, i + 1, 'components_touched')}: expected text like 'ui|video'"
            )
        if not value:
            continue
        parts = value.split("|")
        unknown = [p for p in parts if p not in COMPONENTS]
        if unknown:
            raise BadInputError(
                f"{_where(name, i + 1, 'components_touched')}: unknown component "
                f"{shown(unknown[0])} (expected {', '.join(COMPONENTS)}, separated by '|')"
            )
        if len(set(parts)) != len(parts):
            raise BadInputError(
                f"{_where(name, i + 1, 'components_touched')}: a component appears twice "
                f"in {shown(value)}"
            )
    return s.astype(object)


def _planned_dates(cells: pd.DataFrame, name: str) -> pd.Series:
    if "planned_release_date" not in cells:
        return pd.Series(pd.NaT, index=pd.RangeIndex(len(cells)), dtype="datetime64[s]")
    s = cells["planned_release_date"].astype(str).str.strip()
    present = s != ""
    shaped = s.str.fullmatch(_DATE)
    parsed = pd.to_datetime(s.where(present & shaped), format="%Y-%m-%d", errors="coerce")
    bad = present & ~parsed.between(FIRST_PLANNED_DATE, LAST_PLANNED_DATE)
    if bad.any():
        i = _first_bad(bad)
        raise BadInputError(
            f"{_where(name, i + 1, 'planned_release_date')}: {shown(s.iloc[i])} is not a date "
            f"in YYYY-MM-DD form from {FIRST_PLANNED_DATE.date()} to {LAST_PLANNED_DATE.date()}"
        )
    return parsed.astype("datetime64[s]")


def load_candidates(path: str, input_format: InputFormat = "auto") -> Candidates:
    """Read and check a candidate file ('-' = stdin)."""
    import hashlib

    data, name = read_bytes(path)
    text = _decode(data, name)
    fmt = detect_format(text, name, input_format)
    cells = parse_json(text, name) if fmt == "json" else parse_csv(text, name)
    frame = check_candidates(cells, name)
    return Candidates(frame, name, fmt, hashlib.sha256(data).hexdigest())
