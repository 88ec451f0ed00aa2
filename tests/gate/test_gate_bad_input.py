"""Every bad input exits 2 with one line on stderr naming the row and the column; never a
traceback, never a report, never a pass."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ml.gate import candidates as gate_input
from ml.gate.candidates import INPUT_COLUMNS, REQUIRED_COLUMNS
from tests.gate.conftest import GateWorld, assert_one_line_error, run, write_csv, write_json


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
    ("platform_id", "", "missing value"),
    ("patch_type", "refactor", "unknown patch type"),
    ("patch_type", "", "missing value"),
    ("components_touched", "ui|modem", "unknown component"),
    ("components_touched", "ui|ui", "appears twice"),
    ("planned_release_date", "2026-02-30", "not a date"),
    ("planned_release_date", "tomorrow", "not a date"),
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
]


@pytest.mark.parametrize(("column", "value", "words"), JSON_BAD_VALUES)
def test_bad_value_json(gate_world: GateWorld, tmp_path: Path, column, value, words) -> None:
    rows = [gate_world.patch(0), gate_world.patch(1, **{column: value})]
    path = tmp_path / "p.json"
    import json

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


def test_version_already_released(gate_world: GateWorld, tmp_path: Path) -> None:
    old = _released(gate_world)
    rows = [
        gate_world.patch(0),
        gate_world.patch(1, platform_id=old["platform_id"], version=old["version"]),
    ]
    path = write_csv(tmp_path / "p.csv", rows)
    assert_one_line_error(
        _gate(gate_world, path), 2, "row 2", "column version", "already released", old["release_id"]
    )


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
    result = run(gate_world.args(*extra))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


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
