"""Every bad input exits 2 with one line on stderr naming the row and the column; never a
traceback, never a report, never a pass."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from ml.gate import candidates as gate_input
from ml.gate.candidates import INPUT_COLUMNS, REQUIRED_COLUMNS
from tests.gate.conftest import (
    REPO_ROOT_FOR_TESTS,
    GateWorld,
    assert_one_line_error,
    run,
    write_csv,
    write_json,
)


def _gate(world: GateWorld, path: Path, *extra: str):
    return run(world.args(str(path), *extra))


def test_missing_file(gate_world: GateWorld, tmp_path: Path) -> None:
    assert_one_line_error(_gate(gate_world, tmp_path / "nope.csv"), 2, "no input file")


def test_a_folder_is_not_a_file(gate_world: GateWorld, tmp_path: Path) -> None:
    assert_one_line_error(_gate(gate_world, tmp_path), 2, "is not a file")


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_file(gate_world: GateWorld, tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(content)
    assert_one_line_error(_gate(gate_world, path), 2, "empty")


def test_header_only(gate_world: GateWorld, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "header.csv", [])
    assert_one_line_error(_gate(gate_world, path), 2, "no patches")


def test_empty_json_list(gate_world: GateWorld, tmp_path: Path) -> None:
    assert_one_line_error(_gate(gate_world, write_json(tmp_path / "p.json", [])), 2, "no patches")


@pytest.mark.parametrize("column", REQUIRED_COLUMNS)
def test_missing_column(gate_world: GateWorld, tmp_path: Path, column: str) -> None:
    columns = [c for c in INPUT_COLUMNS if c != column]
    path = write_csv(tmp_path / "p.csv", [gate_world.patch()], columns)
    assert_one_line_error(_gate(gate_world, path), 2, "missing column", column)


def test_missing_key_in_a_json_patch(gate_world: GateWorld, tmp_path: Path) -> None:
    second = gate_world.patch(1)
    del second["lines_added"]
    path = write_json(tmp_path / "p.json", [gate_world.patch(0), second])
    assert_one_line_error(_gate(gate_world, path), 2, "row 2", "column lines_added", "missing")


def test_unknown_column(gate_world: GateWorld, tmp_path: Path) -> None:
    rows = [{**gate_world.patch(), "risk_score": 0.1}]
    path = write_csv(tmp_path / "p.csv", rows, [*INPUT_COLUMNS, "risk_score"])
    assert_one_line_error(_gate(gate_world, path), 2, "unknown column", "risk_score")


def test_optional_columns_may_be_left_out(gate_world: GateWorld, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [gate_world.patch()], list(REQUIRED_COLUMNS))
    result = _gate(gate_world, path, "--block-threshold", "1")
    assert result.exit_code == 0, result.output


def test_ragged_row(gate_world: GateWorld, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [gate_world.patch(0), gate_world.patch(1)])
    path.write_text(path.read_text() + "1.2.3,ares\n")
    assert_one_line_error(_gate(gate_world, path), 2, "row 3", "fields")


# (column, value, words the one-line error must contain besides the row and the column)
BAD_VALUES = [
    ("lines_added", "abc", "not a non-negative integer"),
    ("lines_added", "12.5", "not a non-negative integer"),
    ("files_changed", "", "missing value"),
    ("lines_deleted", "nan", "not allowed"),
    ("lines_deleted", "NaN", "not allowed"),
    ("package_size_kb", "inf", "not allowed"),
    ("package_size_kb", "-inf", "not allowed"),
    ("lines_added", "-5", "negative count"),
    ("test_files_changed", "-1", "negative count"),
    ("files_changed", str(2**31), "larger than"),
    ("test_files_changed", "99", "more than files_changed"),
    ("version", "", "missing value"),
    ("version", "4.2", "not MAJOR.MINOR.PATCH"),
    ("version", "v4.2.0", "not MAJOR.MINOR.PATCH"),
    ("version", "05.5.0", "no leading zeros"),
    ("version", "5.05.0", "no leading zeros"),
    ("version", "5.5.00", "no leading zeros"),
    # digits of other scripts: int() and regex \d accept them, the gate must not
    ("version", "\uff15.\uff15.\uff10", "ASCII digits"),  # fullwidth 5.5.0
    ("version", "\u0669\u0669.1.0", "ASCII digits"),  # Arabic-Indic 99
    ("lines_added", "\u0661\u0662", "ASCII digits"),  # Arabic-Indic 12
    ("files_changed", "\uff11\uff12", "ASCII digits"),  # fullwidth 12
    ("package_size_kb", "1\u0662", "ASCII digits"),
    ("planned_release_date", "\uff12\uff10\uff12\uff16-01-05", "not a date"),
    ("lines_added", "9" * 5000, "larger than"),
    ("lines_added", "-0", "not a non-negative integer"),
    ("platform_id", "", "missing value"),
    ("patch_type", "refactor", "unknown patch type"),
    ("patch_type", "", "missing value"),
    ("components_touched", "ui|modem", "unknown component"),
    ("components_touched", "ui|ui", "appears twice"),
    ("planned_release_date", "2026-02-30", "not a date"),
    ("planned_release_date", "tomorrow", "not a date"),
    ("planned_release_date", "2200-01-01", "to 2199-12-31"),  # beyond the day arithmetic
    ("planned_release_date", "9999-12-31", "to 2199-12-31"),
]


@pytest.mark.parametrize(("column", "value", "words"), BAD_VALUES)
def test_bad_value_csv(gate_world: GateWorld, tmp_path: Path, column, value, words) -> None:
    rows = [gate_world.patch(0), gate_world.patch(1, **{column: value}), gate_world.patch(2)]
    path = write_csv(tmp_path / "p.csv", rows)
    assert_one_line_error(_gate(gate_world, path), 2, "row 2", f"column {column}", words)


JSON_BAD_VALUES = [
    ("lines_added", "12", None),  # numbers may be strings in JSON ...
    ("lines_added", 12.5, "not a non-negative integer"),
    ("lines_added", True, "not a non-negative integer"),
    ("lines_added", None, "missing value"),
    ("lines_added", float("nan"), "not allowed"),
    ("lines_added", float("inf"), "not allowed"),
    ("lines_added", -3, "negative count"),
    ("lines_added", [1, 2], "expected a number"),
    ("platform_id", {"id": "ares"}, "expected text"),
    ("version", 4.2, "not MAJOR.MINOR.PATCH"),
    ("lines_added", 10**25, "larger than"),
    ("lines_added", -(10**25), "negative count"),
    ("lines_added", -0.0, "not a non-negative integer"),
    ("lines_added", 1e300, "not a non-negative integer"),
    ("lines_added", "\u0661\u0662", "ASCII digits"),
]


@pytest.mark.parametrize(("column", "value", "words"), JSON_BAD_VALUES)
def test_bad_value_json(gate_world: GateWorld, tmp_path: Path, column, value, words) -> None:
    rows = [gate_world.patch(0), gate_world.patch(1, **{column: value})]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(rows))  # NaN / Infinity literals, as Python's json writes them
    result = _gate(gate_world, path, "--block-threshold", "1")
    if words is None:
        assert result.exit_code == 0, result.output
    else:
        assert_one_line_error(result, 2, "row 2", f"column {column}", words)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "invalid JSON"),
        ('{"candidates": []}', "expected a list"),
        ('"ares"', "expected a JSON list"),
        ("[1, 2]", "row 1: expected an object"),
    ],
)
def test_malformed_json(gate_world: GateWorld, tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(text)
    assert_one_line_error(_gate(gate_world, path), 2, words)


def _patch_json(world: GateWorld, **fields: str) -> str:
    """One patch as a JSON object's text, fields replaced or added verbatim (raw JSON)."""
    body = {key: json.dumps(value) for key, value in world.patch().items()}
    body.update(fields)
    return "{" + ", ".join(f'"{key}": {value}' for key, value in body.items()) + "}"


def test_json_repeated_key_is_refused(gate_world: GateWorld, tmp_path: Path) -> None:
    patch = _patch_json(gate_world)
    path = tmp_path / "p.json"
    path.write_text(f'[{patch}, {patch[:-1]}, "version": "99.9.0"}}]')
    assert_one_line_error(_gate(gate_world, path), 2, "row 2", "key 'version' appears twice")
    path.write_text(f'{{"patches": [{patch}], "patches": []}}')
    assert_one_line_error(_gate(gate_world, path), 2, "key 'patches' appears twice")


def test_deeply_nested_json(gate_world: GateWorld, tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert_one_line_error(_gate(gate_world, path), 2, "invalid JSON", "nested too deeply")


@pytest.mark.parametrize(("sign", "words"), [("", "larger than"), ("-", "negative count")])
def test_json_integer_of_5000_digits(
    gate_world: GateWorld, tmp_path: Path, sign: str, words: str
) -> None:
    path = tmp_path / "p.json"
    path.write_text(f"[{_patch_json(gate_world, lines_added=sign + '9' * 5000)}]")
    assert_one_line_error(_gate(gate_world, path), 2, "row 1", "column lines_added", words)


@pytest.mark.parametrize(
    ("literal", "words"),
    [("NaN", "not allowed"), ("-Infinity", "not allowed"), ("1e400", "not allowed")],
)
def test_json_non_finite_numbers(
    gate_world: GateWorld, tmp_path: Path, literal: str, words: str
) -> None:
    path = tmp_path / "p.json"
    path.write_text(f"[{_patch_json(gate_world, files_changed=literal)}]")
    assert_one_line_error(_gate(gate_world, path), 2, "row 1", "column files_changed", words)


def test_counts_may_have_leading_zeros_and_a_plus(gate_world: GateWorld, tmp_path: Path) -> None:
    row = gate_world.patch(files_changed="+" + "0" * 30 + "12", lines_added="0" * 40)
    result = _gate(gate_world, write_csv(tmp_path / "p.csv", [row]), "--block-threshold", "1")
    assert result.exit_code == 0, result.output


def test_json_minus_zero_is_the_integer_zero(gate_world: GateWorld, tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(f"[{_patch_json(gate_world, lines_deleted='-0')}]")
    assert _gate(gate_world, path, "--block-threshold", "1").exit_code == 0


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_byte_order_mark_and_crlf_are_fine(
    gate_world: GateWorld, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"p{suffix}"
    if suffix == ".csv":
        write_csv(path, [gate_world.patch(0), gate_world.patch(1)])
    else:
        write_json(path, [gate_world.patch(0), gate_world.patch(1)])
    text = path.read_text().replace("\r\n", "\n").replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    result = _gate(gate_world, path, "--block-threshold", "1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["input"]["patches"] == 2


def test_not_utf8(gate_world: GateWorld, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"version,platform_id\n\xff\xfe\n")
    assert_one_line_error(_gate(gate_world, path), 2, "not UTF-8")


def test_duplicate_versions(gate_world: GateWorld, tmp_path: Path) -> None:
    platform = gate_world.platforms[0]
    rows = [
        gate_world.patch(0, platform_id=platform),
        gate_world.patch(1, platform_id=platform),
        gate_world.patch(0, platform_id=platform),
    ]
    path = write_csv(tmp_path / "p.csv", rows)
    assert_one_line_error(
        _gate(gate_world, path), 2, "row 3", "column version", "duplicate version", "row 1"
    )


def test_same_version_on_two_platforms_is_fine(gate_world: GateWorld, tmp_path: Path) -> None:
    a, b = gate_world.platforms[:2]
    rows = [gate_world.patch(0, platform_id=a), gate_world.patch(0, platform_id=b)]
    result = _gate(gate_world, write_csv(tmp_path / "p.csv", rows), "--block-threshold", "1")
    assert result.exit_code == 0, result.output


def test_unknown_platform(gate_world: GateWorld, tmp_path: Path) -> None:
    rows = [gate_world.patch(0), gate_world.patch(1, platform_id="zeus")]
    path = write_csv(tmp_path / "p.csv", rows)
    assert_one_line_error(
        _gate(gate_world, path), 2, "row 2", "column platform_id", "unknown platform 'zeus'"
    )


def _released(world: GateWorld) -> dict:
    import pandas as pd

    raw = pd.read_csv(world.raw_dir / "firmware_releases.csv", dtype=str)
    return raw.iloc[5].to_dict()


FULLWIDTH = str.maketrans(
    "0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19"
)


@pytest.mark.parametrize(
    ("spell", "words"),
    [
        (lambda v: v, "already released"),
        (lambda v: "0" + v, "no leading zeros"),
        (lambda v: v.replace(".", ".0", 1), "no leading zeros"),
        (lambda v: v.translate(FULLWIDTH), "ASCII digits"),
    ],
    ids=["as released", "leading zero major", "leading zero minor", "fullwidth digits"],
)
def test_version_already_released(gate_world: GateWorld, tmp_path: Path, spell, words) -> None:
    """A released version is refused however it is spelled: never scored as a new one."""
    old = _released(gate_world)
    rows = [
        gate_world.patch(0),
        gate_world.patch(1, platform_id=old["platform_id"], version=spell(old["version"])),
    ]
    path = write_csv(tmp_path / "p.csv", rows)
    assert_one_line_error(_gate(gate_world, path), 2, "row 2", "column version", words)


def test_released_version_spelled_otherwise_in_the_warehouse(
    gate_world: GateWorld, tmp_path: Path
) -> None:
    """Released is by version number: a warehouse that kept `05.5.0` has released 5.5.0."""
    old = _released(gate_world)
    warehouse = tmp_path / "patchrisk.duckdb"
    shutil.copy(gate_world.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update marts.dim_firmware_releases set version = '0' || version where release_id = ?",
            [old["release_id"]],
        )
    row = gate_world.patch(0, platform_id=old["platform_id"], version=old["version"])
    args = ["gate", "--warehouse", str(warehouse), "--registry", str(gate_world.registry)]
    result = run([*args, str(write_csv(tmp_path / "p.csv", [row]))])
    assert_one_line_error(result, 2, "row 1", "already released", old["release_id"])


def test_planned_date_not_after_the_latest_release(gate_world: GateWorld, tmp_path: Path) -> None:
    platform = gate_world.platforms[0]
    latest = gate_world.latest_release[platform]
    rows = [gate_world.patch(0, platform_id=platform, planned_release_date=latest.isoformat())]
    path = write_csv(tmp_path / "p.csv", rows)
    assert_one_line_error(
        _gate(gate_world, path), 2, "row 1", "column planned_release_date", "latest release"
    )


def test_oversized_file(gate_world: GateWorld, tmp_path: Path, monkeypatch) -> None:
    path = write_csv(tmp_path / "p.csv", [gate_world.patch(i) for i in range(50)])
    monkeypatch.setattr(gate_input, "MAX_INPUT_BYTES", path.stat().st_size - 1)
    assert_one_line_error(_gate(gate_world, path), 2, "bytes", "split")


def test_oversized_stdin(gate_world: GateWorld, tmp_path: Path, monkeypatch) -> None:
    text = write_csv(tmp_path / "p.csv", [gate_world.patch(i) for i in range(50)]).read_text()
    monkeypatch.setattr(gate_input, "MAX_INPUT_BYTES", len(text) - 1)
    assert_one_line_error(run(gate_world.args("-"), stdin=text), 2, "<stdin>", "larger than")


def test_too_many_patches(gate_world: GateWorld, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(gate_input, "MAX_PATCHES", 3)
    path = write_csv(tmp_path / "p.csv", [gate_world.patch(i) for i in range(4)])
    assert_one_line_error(_gate(gate_world, path), 2, "more than 3 patches")


def test_the_documented_limit() -> None:
    assert gate_input.MAX_INPUT_BYTES == 16 * 1024 * 1024
    assert gate_input.MAX_PATCHES == 100_000


def test_unknown_release_id(gate_world: GateWorld) -> None:
    assert_one_line_error(
        run(gate_world.args("--release", "ares-0.0.1")), 2, "ares-0.0.1", "no such release"
    )


@pytest.mark.parametrize(
    "extra",
    [
        [],  # nothing to gate
        ["a.csv", "--input", "b.csv"],
        ["a.csv", "--release", "x-1.0.0"],
        ["--release", "x-1.0.0", "--backtest"],
        ["a.csv", "--format", "yaml"],
        ["a.csv", "--fail-on", "pass"],
        ["a.csv", "--block-threshold", "1.5"],
        ["a.csv", "--review-threshold", "abc"],
        ["a.csv", "--lock-timeout", "-1"],
    ],
)
def test_usage_errors_exit_2(gate_world: GateWorld, extra: list[str]) -> None:
    assert_one_line_error(run(gate_world.args(*extra)), 2)


@pytest.mark.parametrize(
    "extra",
    [[], ["--no-such-option"], ["a.csv", "--format", "yaml"], ["a.csv", "--block-threshold", "x"]],
)
def test_usage_errors_of_the_script_are_one_line(gate_world: GateWorld, extra: list[str]) -> None:
    script = REPO_ROOT_FOR_TESTS / "scripts" / "risk_gate.py"
    proc = subprocess.run(
        [sys.executable, str(script), *gate_world.args(*extra)[1:]],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "risk_gate.py" in lines[0], lines


def test_review_threshold_above_block(gate_world: GateWorld, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [gate_world.patch()])
    result = _gate(gate_world, path, "--review-threshold", "0.6", "--block-threshold", "0.4")
    assert_one_line_error(result, 2, "review threshold", "above the block threshold")


def test_planned_date_before_first_release_in_backtest(
    gate_world: GateWorld, tmp_path: Path
) -> None:
    early = (min(gate_world.latest_release.values()) - timedelta(days=4000)).isoformat()
    path = write_csv(tmp_path / "p.csv", [gate_world.patch(planned_release_date=early)])
    assert_one_line_error(_gate(gate_world, path, "--backtest"), 2, "row 1", "no context")
