"""Property-based fuzz of the gate's input (Hypothesis) over CSV and JSON files.

Valid files are built from strategies over valid values and valid spellings (column order,
optional columns left out, padding, a `+` sign, numbers as JSON strings, BOM, CRLF ...).
Invalid files are valid ones with one mutation: a wrong value or type in one cell (checked
against `_is_valid`, the input contract written out independently of ml/gate_input.py),
another script's digit, a missing, unknown or repeated key or column, a duplicate
version, broken structure, nesting, huge numbers, a bad encoding. Properties:

- never a traceback, never exit 3 (the warehouse and the registry are healthy);
- a valid file exits 0 (the block threshold is 1) and scores every patch;
- an invalid file exits 2 with one `error: ...` line and no report.

`make test` runs the `gate-fuzz` profile: 30 valid, 240 invalid and 120 arbitrary files,
derandomized (the same files on every run), no deadline; about 45 s on 2 cores besides the
shared warehouse fixture. `pytest -m slow` runs `gate-fuzz-slow`, ten times as many.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ml.cli import main
from ml.gate.candidates import INPUT_COLUMNS, MAX_COUNT, OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from ml.gate.release_attributes import COMPONENTS, PATCH_TYPES, RAW_COUNT_COLUMNS
from tests.gate.conftest import GateWorld

settings.register_profile(
    "gate-fuzz",
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile("gate-fuzz-slow", settings.get_profile("gate-fuzz"), max_examples=300)
FAST = settings.get_profile("gate-fuzz")
SLOW = settings.get_profile("gate-fuzz-slow")
# Examples per property relative to the profile's max_examples (invalid inputs are cheap:
# most stop before the model loads).
VALID_SHARE, INVALID_SHARE, BYTES_SHARE = 1, 8, 4

FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2199, 12, 31)
Row = list[tuple[str, object]]  # a patch as key / value pairs: keys may repeat


class Raw(str):
    """JSON text put into a file verbatim (a 5,000-digit integer, NaN, 1e400)."""


# ---- the input contract, written out --------------------------------------------------
_VERSION = re.compile(r"(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})")


@dataclass(frozen=True)
class FuzzWorld:
    """What a valid patch must respect in the gate's test warehouse."""

    gate: GateWorld
    folder: Path
    released: frozenset[tuple[str, tuple[int, int, int]]]

    @property
    def platforms(self) -> list[str]:
        return self.gate.platforms

    def latest(self, platform: str) -> date:
        return self.gate.latest_release[platform]


def _text(value: object) -> str | None:
    """A scalar cell as the gate reads it (None: not a scalar)."""
    if value is None:
        return ""
    if isinstance(value, Raw | bool | float | list | dict):
        return None
    return str(value).strip()


def _count(text: str) -> int | None:
    """0 .. MAX_COUNT in ASCII digits (leading zeros and a '+' allowed), else None."""
    digits = text.removeprefix("+").lstrip("0") or "0"
    if not re.fullmatch(r"\+?[0-9]+", text) or len(digits) > len(str(MAX_COUNT)):
        return None
    return int(digits) if int(digits) <= MAX_COUNT else None


def _is_valid_date(text: str) -> bool:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return False
    try:
        return FIRST_DATE <= date.fromisoformat(text) <= LAST_DATE
    except ValueError:
        return False


def _release_key(w: FuzzWorld, row: Row) -> tuple[str, tuple[int, ...]] | None:
    """(platform, version numbers) of a patch that keeps the contract, else None."""
    keys = [k for k, _ in row]
    if len(set(keys)) != len(keys) or not set(REQUIRED_COLUMNS) <= set(keys) <= set(INPUT_COLUMNS):
        return None
    cells = {k: _text(v) for k, v in row}
    if any(v is None for v in cells.values()):
        return None
    optional = [c for c in RAW_COUNT_COLUMNS if c in OPTIONAL_COLUMNS and cells.get(c, "") == ""]
    counts = {c: _count(cells[c]) for c in RAW_COUNT_COLUMNS if c not in optional}
    if None in counts.values() or counts["test_files_changed"] > counts["files_changed"]:
        return None
    platform, version = cells["platform_id"], _VERSION.fullmatch(cells["version"])
    if platform not in w.platforms or version is None or cells["patch_type"] not in PATCH_TYPES:
        return None
    key = (platform, tuple(map(int, version.groups())))
    parts = cells.get("components_touched", "").split("|")
    planned = cells.get("planned_release_date", "")
    if (
        key in w.released
        or (parts != [""] and (not set(parts) <= set(COMPONENTS) or len(set(parts)) < len(parts)))
        or (planned and not _is_valid_date(planned))
        or (planned and date.fromisoformat(planned) <= w.latest(platform))
    ):
        return None
    return key


def _is_valid(w: FuzzWorld, rows: list[Row]) -> bool:
    """The README's input contract for a file's patches."""
    keys = [_release_key(w, row) for row in rows]
    return bool(keys) and None not in keys and len(set(keys)) == len(keys)


# ---- valid patches ---------------------------------------------------------------------
_COUNTS = st.integers(0, MAX_COUNT)
_VERSIONS = st.tuples(*[st.integers(0, 999_999_999)] * 3)


@st.composite
def _patch(draw, w: FuzzWorld) -> dict[str, object]:
    platform = draw(st.sampled_from(w.platforms))
    version = draw(_VERSIONS.filter(lambda v: (platform, v) not in w.released))
    files = draw(_COUNTS)
    first_day = w.latest(platform) + timedelta(days=1)
    return {
        "version": ".".join(map(str, version)),
        "platform_id": platform,
        "patch_type": draw(st.sampled_from(PATCH_TYPES)),
        "files_changed": files,
        "lines_added": draw(_COUNTS),
        "lines_deleted": draw(_COUNTS),
        "components_touched": "|".join(draw(st.lists(st.sampled_from(COMPONENTS), unique=True))),
        "package_size_kb": draw(_COUNTS),
        "test_files_changed": draw(st.integers(0, files)),
        "planned_release_date": draw(
            st.none() | st.dates(first_day, LAST_DATE).map(date.isoformat)
        ),
    }


@st.composite
def valid_rows(draw, w: FuzzWorld, fmt: str) -> list[Row]:
    """1-4 valid patches with distinct versions, as rows in one drawn column order."""
    patches = draw(
        st.lists(
            _patch(w),
            min_size=1,
            max_size=4,
            unique_by=lambda p: (p["platform_id"], p["version"]),
        )
    )
    optional = draw(st.sampled_from([OPTIONAL_COLUMNS, *([c] for c in OPTIONAL_COLUMNS), []]))
    columns = draw(st.permutations([*REQUIRED_COLUMNS, *optional]))
    rows = [[(c, p[c]) for c in columns] for p in patches]
    if fmt == "json" and draw(st.booleans()):  # JSON may also leave out empty optional keys
        rows = [[(k, v) for k, v in row if v is not None] for row in rows]
    return rows


# ---- files -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Spelling:
    """How a file writes valid values (none of it changes what the patches mean)."""

    pad: str
    plus: bool
    numbers_as_text: bool
    quote_all: bool
    newline: str
    bom: bool
    wrap: bool
    indent: int | None


SPELLINGS = st.builds(
    Spelling,
    pad=st.sampled_from(["", " ", "\t "]),
    plus=st.booleans(),
    numbers_as_text=st.booleans(),
    quote_all=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    wrap=st.booleans(),
    indent=st.sampled_from([None, 2]),
)


def _spelled(value: object, s: Spelling, numbers_as_text: bool) -> object:
    """A value as this file writes it: text padded, integers maybe as text with a '+'."""
    if isinstance(value, int) and not isinstance(value, bool) and numbers_as_text:
        value = f"{'+' if s.plus else ''}{value}"
    return (
        f"{s.pad}{value}{s.pad}" if isinstance(value, str) and not isinstance(value, Raw) else value
    )


def _csv_cell(value: object, s: Spelling) -> str:
    return "" if value is None else str(_spelled(value, s, numbers_as_text=True))


def csv_text(header: list[str], rows: list[list[object]], s: Spelling) -> str:
    out = io.StringIO()
    quoting = csv.QUOTE_ALL if s.quote_all else csv.QUOTE_MINIMAL
    writer = csv.writer(out, lineterminator=s.newline, quoting=quoting)
    writer.writerow(header)
    writer.writerows([_csv_cell(v, s) for v in row] for row in rows)
    return out.getvalue()


def _json_value(value: object, s: Spelling) -> str:
    if isinstance(value, Raw):
        return value
    return json.dumps(_spelled(value, s, s.numbers_as_text))


def json_text(rows: list[Row], s: Spelling) -> str:
    """Rows as JSON objects written pair by pair (so a key may repeat)."""
    sep = s.newline + " " * (s.indent or 0) if s.indent else " "
    objects = [
        "{" + ",".join(f"{sep}{json.dumps(k)}: {_json_value(v, s)}" for k, v in row) + "}"
        for row in rows
    ]
    body = "[" + f",{sep}".join(objects) + "]"
    return f'{{"patches": {body}}}' if s.wrap else body


def render(rows: list[Row], fmt: str, s: Spelling) -> str:
    if fmt == "json":
        return json_text(rows, s)
    return csv_text([k for k, _ in rows[0]], [[v for _, v in row] for row in rows], s)


def encode(text: str, s: Spelling) -> bytes:
    return (b"\xef\xbb\xbf" if s.bom else b"") + text.encode()


@dataclass(frozen=True)
class Case:
    """One generated input file and what the gate must do with it."""

    data: bytes
    fmt: str
    valid: bool | None  # None: arbitrary bytes, only "never a crash" holds
    patches: int
    mutation: str


@st.composite
def valid_case(draw, w: FuzzWorld) -> Case:
    fmt = draw(st.sampled_from(["csv", "json"]))
    rows = draw(valid_rows(w, fmt))
    assert _is_valid(w, rows)
    s = draw(SPELLINGS)
    return Case(encode(render(rows, fmt, s), s), fmt, True, len(rows), "none")


# ---- invalid patches: one mutation of a valid file -------------------------------------
_OTHER_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: not c.isascii())
_ODD_COUNTS = st.one_of(
    st.sampled_from(
        ["nan", "NaN", "inf", "-Infinity", "-1", "-0", "+-1", "1.0", "1e3", "0x1F", "1_000",
         "1,5", "2147483648", "1 2", "null"]
    ),
    st.integers(MAX_COUNT + 1, 10**40).map(str),
    st.integers(4000, 6000).map(lambda n: "9" * n),  # past int()'s 4,300-digit limit
)  # fmt: skip
_ODD_TEXT = {
    "version": st.sampled_from(
        ["05.5.0", "5.05.0", "5.5.00", "5.5", "5.5.0.1", "v5.5.0", "5.5.0-rc.1",
         "5.5.0+build.7", "1234567890.0.0", "-1.2.3", "1. 2.3", "5..0", "5.5.0."]
    ),
    "planned_release_date": st.one_of(
        st.sampled_from(["2026-02-30", "2026-1-5", "99999-01-01", "2026-01-05T00:00", "0"]),
        st.dates(max_value=FIRST_DATE - timedelta(days=1)).map(date.isoformat),
        st.dates(min_value=LAST_DATE + timedelta(days=1)).map(date.isoformat),
    ),
    "components_touched": st.sampled_from(["ui|ui", "ui|", "|ui", "UI", "ui,video", "modem"]),
    "platform_id": st.sampled_from(["ARES", "ares ares", "zeus"]),
    "patch_type": st.sampled_from(["Bugfix", "refactor", "hot fix"]),
    **dict.fromkeys(RAW_COUNT_COLUMNS, _ODD_COUNTS),
}  # fmt: skip
_JSON_ODD = st.one_of(
    st.integers(-(10**30), 10**30),
    st.floats(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from([Raw("9" * 5000), Raw("-" + "9" * 5000), Raw("1e400"), Raw("NaN")]),
)


@st.composite
def _other_digit(draw, text: str) -> str:
    """`text` with one ASCII digit replaced by a digit of another script."""
    positions = [i for i, c in enumerate(text) if c.isdigit()]
    i = draw(st.sampled_from(positions))
    return text[:i] + draw(_OTHER_DIGITS) + text[i + 1 :]


def _replace(row: Row, key: str, value: object) -> Row:
    return [(k, value if k == key else v) for k, v in row]


@st.composite
def _bad_cell(draw, w: FuzzWorld, rows: list[Row], fmt: str) -> tuple[list[Row], str]:
    """One cell of one row gets a value that breaks the contract."""
    i = draw(st.integers(0, len(rows) - 1))
    row = rows[i]
    key = draw(st.sampled_from([k for k, _ in row]))
    current = "" if dict(row)[key] is None else str(dict(row)[key])
    pool = [_ODD_TEXT[key], st.text(max_size=12), st.just("")]
    if any(c.isdigit() for c in current):
        pool.append(_other_digit(current))
    if key == "test_files_changed":
        pool.append(st.integers(1, 10).map(lambda k: int(dict(row)["files_changed"]) + k))
    if key == "version":
        released = sorted(v for p, v in w.released if p == dict(row)["platform_id"])
        pool.append(st.sampled_from(released).map(lambda v: ".".join(map(str, v))))
    if key == "planned_release_date":
        latest = w.latest(str(dict(row)["platform_id"]))
        pool.append(st.dates(FIRST_DATE, latest).map(date.isoformat))
    if fmt == "json":
        pool.append(_JSON_ODD)

    def breaks(value: object) -> bool:
        changed = [*rows[:i], _replace(row, key, value), *rows[i + 1 :]]
        return not _is_valid(w, changed)

    value = draw(st.one_of(pool).filter(breaks))
    return [*rows[:i], _replace(row, key, value), *rows[i + 1 :]], f"{key}={value!r:.60}"


@st.composite
def _bad_keys(draw, w: FuzzWorld, rows: list[Row], fmt: str) -> tuple[list[Row], str]:
    """A key or column missing, unknown or repeated (in every row for CSV, one for JSON)."""
    kind = draw(st.sampled_from(["missing", "unknown", "repeated"]))
    targets = range(len(rows)) if fmt == "csv" else [draw(st.integers(0, len(rows) - 1))]
    present = [k for k, _ in rows[targets[0]]]
    key = draw(st.sampled_from(REQUIRED_COLUMNS if kind == "missing" else present))
    if kind == "unknown":
        key = draw(st.text(min_size=1, max_size=8).filter(lambda k: k.strip() not in INPUT_COLUMNS))
    out = []
    for i, row in enumerate(rows):
        if i in targets and kind == "missing":
            row = [p for p in row if p[0] != key]
        elif i in targets:  # a repeated key keeps its value: the repetition alone is wrong
            row = [*row, (key, dict(row).get(key, "1"))]
        out.append(row)
    return out, f"{kind} key {key!r}"


@st.composite
def _duplicate_version(draw, w: FuzzWorld, rows: list[Row], fmt: str) -> tuple[list[Row], str]:
    i = draw(st.integers(0, len(rows) - 1))
    return [*rows, rows[i]], f"row {i + 1} twice"


ROW_MUTATIONS: tuple[Callable, ...] = (_bad_cell, _bad_cell, _bad_keys, _duplicate_version)


def _json_structure(text: str, rows: list[Row], s: Spelling) -> st.SearchStrategy[tuple]:
    """(broken JSON, what is broken)."""
    stripped = text.rstrip()
    listed = json_text(rows, replace(s, wrap=False))
    return st.one_of(
        st.sampled_from([1, 2, 100_000]).map(lambda d: ("[" * d + text + "]" * d, f"nested {d}")),
        st.integers(0, len(stripped) - 1).map(lambda n: (stripped[:n], "cut off")),
        st.sampled_from(["{}", "[]", '{"patches": []}', "null", "1", '"x"', "[1]", "[[]]"]).map(
            lambda t: (t, "not a list of patches")
        ),
        st.sampled_from([f'{{"patches": {listed}, "x": 1}}', f'{{"candidates": {listed}}}']).map(
            lambda t: (t, "wrong wrapper")
        ),
    )


def _csv_structure(text: str, s: Spelling) -> st.SearchStrategy[tuple]:
    """(broken CSV, what is broken)."""
    lines = text.split(s.newline)
    return st.sampled_from(
        [
            (lines[0] + s.newline, "header only"),
            (s.newline.join([*lines[:2], lines[1] + ",x", *lines[2:]]), "ragged row"),
            (text + '"99.0.0,' + s.newline, "unterminated quote"),
            ("", "empty"),
            (" \n\n", "blank"),
        ]
    )


def _bad_bytes(data: bytes) -> st.SearchStrategy[tuple]:
    """(bytes that are not UTF-8 text, what is wrong)."""
    at = st.integers(0, len(data))
    return st.one_of(
        st.tuples(at, st.integers(0x80, 0xFF)).map(
            lambda p: (data[: p[0]] + bytes([p[1]]) + data[p[0] :], "byte >= 0x80")
        ),
        at.map(lambda n: (data[:n] + b"\x00" + data[n:], "NUL byte")),
        st.just((data.decode().encode("utf-16"), "UTF-16")),
    )


@st.composite
def invalid_case(draw, w: FuzzWorld) -> Case:
    fmt = draw(st.sampled_from(["csv", "json"]))
    rows = draw(valid_rows(w, fmt))
    s = draw(SPELLINGS)
    layer = draw(st.sampled_from(["row", "row", "row", "structure", "bytes"]))
    if layer == "row":
        rows, what = draw(st.sampled_from(ROW_MUTATIONS).flatmap(lambda m: m(w, rows, fmt)))
        assert not _is_valid(w, rows), what
        return Case(encode(render(rows, fmt, s), s), fmt, False, len(rows), what)
    text = render(rows, fmt, s)
    if layer == "structure":
        broken = _json_structure(text, rows, s) if fmt == "json" else _csv_structure(text, s)
        text, what = draw(broken)
        return Case(encode(text, s), fmt, False, 0, what)
    data, what = draw(_bad_bytes(text.encode()))
    return Case(data, fmt, False, 0, what)


# ---- running the gate ------------------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_world(gate_world: GateWorld, tmp_path_factory) -> FuzzWorld:
    raw = pd.read_csv(gate_world.raw_dir / "firmware_releases.csv", dtype=str)
    released = frozenset(
        (p, tuple(int(x) for x in v.split(".")))
        for p, v in zip(raw["platform_id"], raw["version"], strict=True)
    )
    return FuzzWorld(gate_world, tmp_path_factory.mktemp("gate_fuzz"), released)


def run_gate(w: FuzzWorld, case: Case) -> Result:
    path = w.folder / f"patches.{case.fmt}"
    path.write_bytes(case.data)
    args = w.gate.args(str(path), "--block-threshold", "1")
    return CliRunner().invoke(main, args, catch_exceptions=True)


def check(w: FuzzWorld, case: Case) -> None:
    """The three properties for one generated file."""
    result = run_gate(w, case)
    # An exception that escapes the CLI would show as exit 1 in CliRunner: check it first.
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{case.mutation}: {result.exception!r}"
    )
    assert "Traceback" not in result.output and "internal error" not in result.stderr, result.stderr
    assert result.exit_code != 3, f"{case.mutation}: {result.stderr}"
    if case.valid:
        assert result.exit_code == 0, f"valid file refused: {result.stderr}"
        assert json.loads(result.stdout)["input"]["patches"] == case.patches
    elif case.valid is False:
        assert result.exit_code == 2, f"invalid file ({case.mutation}) accepted"
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert result.stdout == "" and len(lines) == 1 and lines[0].startswith("error: "), lines


def _arbitrary_case(fmt: str, data: bytes) -> Case:
    return Case(data, fmt, None, 0, "arbitrary")


ARBITRARY = st.builds(
    _arbitrary_case,
    st.sampled_from(["csv", "json"]),
    st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
)


@pytest.fixture(scope="module")
def slow_only(request) -> None:
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with -m slow")


@settings(FAST, max_examples=FAST.max_examples * VALID_SHARE)
@given(data=st.data())
def test_valid_files_pass(fuzz_world: FuzzWorld, data) -> None:
    check(fuzz_world, data.draw(valid_case(fuzz_world)))


@settings(FAST, max_examples=FAST.max_examples * INVALID_SHARE)
@given(data=st.data())
def test_invalid_files_exit_2(fuzz_world: FuzzWorld, data) -> None:
    check(fuzz_world, data.draw(invalid_case(fuzz_world)))


@settings(FAST, max_examples=FAST.max_examples * BYTES_SHARE)
@given(case=ARBITRARY)
def test_arbitrary_bytes_never_crash(fuzz_world: FuzzWorld, case: Case) -> None:
    check(fuzz_world, case)


@pytest.mark.slow
@settings(SLOW, max_examples=SLOW.max_examples * VALID_SHARE)
@given(data=st.data())
def test_valid_files_pass_slow(slow_only, fuzz_world: FuzzWorld, data) -> None:
    check(fuzz_world, data.draw(valid_case(fuzz_world)))


@pytest.mark.slow
@settings(SLOW, max_examples=SLOW.max_examples * INVALID_SHARE)
@given(data=st.data())
def test_invalid_files_exit_2_slow(slow_only, fuzz_world: FuzzWorld, data) -> None:
    check(fuzz_world, data.draw(invalid_case(fuzz_world)))


@pytest.mark.slow
@settings(SLOW, max_examples=SLOW.max_examples * BYTES_SHARE)
@given(case=ARBITRARY)
def test_arbitrary_bytes_never_crash_slow(slow_only, fuzz_world: FuzzWorld, case: Case) -> None:
    check(fuzz_world, case)
