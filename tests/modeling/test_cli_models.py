"""`patchrisk train | score | models`: output, --json, and one-line errors with exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ml.cli import main
from ml.modeling.registry import (
    ALIASES_FILE,
    CLASSIFIER_FILE,
    HISTORY_FILE,
    METADATA_FILE,
    Registry,
)
from tests.conftest import rewrite_mart


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _assert_one_line_error(result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], lines


@pytest.mark.parametrize(
    "args",
    [
        ["train"],
        ["score"],
        ["models"],
        ["models", "list"],
        ["models", "show"],
        ["models", "promote"],
        ["models", "rollback"],
    ],
)
def test_help(args) -> None:
    result = _run(*args, "--help")
    assert result.exit_code == 0 and "Usage" in result.output


def test_train_score_and_models(ml_warehouse, ml_world, warehouse_copy, tmp_path: Path) -> None:
    registry = str(tmp_path / "reg")
    result = _run(
        "train",
        "--warehouse",
        str(ml_warehouse),
        "--raw-dir",
        str(ml_world),
        "--registry",
        registry,
    )
    assert result.exit_code == 0, result.output
    assert "oracle" in result.stdout and "registered v0001 as champion" in result.stdout
    result = _run("train", "--warehouse", str(ml_warehouse), "--registry", registry, "--json")
    body = json.loads(result.stdout)
    assert body["version"] == "v0002" and body["aliases"] == ["challenger"]
    listing = json.loads(_run("models", "list", "--registry", registry, "--json").stdout)
    assert [(r["version"], r["aliases"]) for r in listing] == [
        ("v0001", ["champion"]),
        ("v0002", ["challenger"]),
    ]
    assert "ROC-AUC" in _run("models", "show", "--registry", registry).stdout
    assert (
        json.loads(_run("models", "show", "v0002", "--registry", registry, "--json").stdout)[
            "version"
        ]
        == "v0002"
    )
    assert "champion: v0002" in _run("models", "promote", "--registry", registry).stdout
    assert "champion: v0001" in _run("models", "rollback", "--registry", registry).stdout
    result = _run("score", "--warehouse", str(warehouse_copy), "--registry", registry, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"] == "v0001"
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        assert con.execute("select count(*) from ml.release_risk_scores").fetchall()[0][0] > 0


def test_tampered_model_exits_3(registry_copy: Path, warehouse_copy: Path) -> None:
    path = registry_copy / "v0001" / CLASSIFIER_FILE
    path.write_bytes(b"x" + path.read_bytes()[1:])
    result = _run("score", "--warehouse", str(warehouse_copy), "--registry", str(registry_copy))
    _assert_one_line_error(result, 3, "SHA-256")
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        # dbt creates the empty table; a refused model must not write a single score
        assert con.execute("select count(*) from ml.release_risk_scores").fetchall() == [(0,)]


def test_no_warehouse_exits_3(registry_copy: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.duckdb")
    _assert_one_line_error(
        _run("score", "--warehouse", missing, "--registry", str(registry_copy)), 3, "no warehouse"
    )
    _assert_one_line_error(
        _run("train", "--warehouse", missing, "--registry", str(tmp_path / "r")), 3, "no warehouse"
    )
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("select_sql", "message"),
    [
        ("select * exclude (code_churn_score) from m", "code_churn_score"),
        ("select * from m where false", "empty"),
        (
            "select * replace (false as is_label_available, null::boolean as is_regression) from m",
            "no labelled rows",
        ),
        ("select * replace (is_regression and false as is_regression) from m", "single class"),
    ],
)
def test_bad_marts_exit_2_and_leave_registry_alone(
    select_sql, message, warehouse_copy: Path, registry_copy: Path
) -> None:
    rewrite_mart(warehouse_copy, select_sql)
    before = sorted(p.name for p in registry_copy.iterdir())
    result = _run("train", "--warehouse", str(warehouse_copy), "--registry", str(registry_copy))
    _assert_one_line_error(result, 2, message)
    assert sorted(p.name for p in registry_copy.iterdir()) == before
    if message in ("code_churn_score", "empty"):
        result = _run("score", "--warehouse", str(warehouse_copy), "--registry", str(registry_copy))
        _assert_one_line_error(result, 2, message)


def test_unknown_model_and_rollback_without_history_exit_2(registry_copy: Path) -> None:
    reg = str(registry_copy)
    _assert_one_line_error(_run("models", "show", "v0042", "--registry", reg), 2, "v0042")
    _assert_one_line_error(_run("models", "rollback", "--registry", reg), 2, "no earlier")
    _assert_one_line_error(_run("models", "promote", "--registry", reg), 2, "challenger")
    assert Registry(registry_copy).aliases() == {"champion": "v0001"}


def _write(relative: str, text: str):
    return lambda root: (root / relative).write_text(text)


def _edit_metadata(change):
    def edit(root: Path) -> None:
        path = root / "v0002" / METADATA_FILE
        path.write_text(json.dumps(change(json.loads(path.read_text()))))

    return edit


def _append_history(text: str):
    def append(root: Path) -> None:
        with open(root / HISTORY_FILE, "a") as fh:
            fh.write(text)

    return append


def _break_history_line(root: Path) -> None:
    lines = (root / HISTORY_FILE).read_text().splitlines(keepends=True)
    (root / HISTORY_FILE).write_text("".join([lines[0], "{oops\n", *lines[1:]]))


LIST, SHOW, SHOW_V1, ROLLBACK = ("list",), ("show",), ("show", "v0001"), ("rollback",)


@pytest.mark.parametrize(
    ("damage", "named", "failing", "working"),
    [
        (_write(ALIASES_FILE, '["v0002"]'), ALIASES_FILE, [LIST, SHOW, ROLLBACK], [SHOW_V1]),
        (
            _write(ALIASES_FILE, '{"champion": "../../etc"}'),
            ALIASES_FILE,
            [LIST, SHOW, ROLLBACK],
            [SHOW_V1],
        ),
        (
            _edit_metadata(lambda m: {k: v for k, v in m.items() if k != "files"}),
            "v0002/metadata.json",
            [LIST, SHOW],
            [SHOW_V1, ROLLBACK],
        ),
        (
            _edit_metadata(lambda m: {k: v for k, v in m.items() if k != "metrics"}),
            "v0002/metadata.json",
            [LIST, SHOW],
            [SHOW_V1, ROLLBACK],
        ),
        (_break_history_line, HISTORY_FILE, [ROLLBACK], [LIST, SHOW]),
        (_append_history('{"at": "2026-01-01T00:00:00Z", "act'), None, [], [LIST, SHOW, ROLLBACK]),
    ],
    ids=[
        "aliases-list",
        "alias-path",
        "metadata-no-files",
        "metadata-no-metrics",
        "history-bad-line",
        "history-cut-off",
    ],
)
def test_damaged_registry_files_exit_3_naming_the_file(
    two_champions: Path, damage, named: str | None, failing: list, working: list
) -> None:
    """Commands that need the damaged file fail in one line (exit 3) and change nothing;
    the others still work."""
    damage(two_champions)
    files = {p: p.read_bytes() for p in two_champions.rglob("*") if p.is_file()}
    for args in failing:
        result = _run("models", *args, "--registry", str(two_champions))
        _assert_one_line_error(result, 3, named)
    assert {p: p.read_bytes() for p in two_champions.rglob("*") if p.is_file()} == files
    for args in working:
        result = _run("models", *args, "--registry", str(two_champions))
        assert result.exit_code == 0, (args, result.output)
    if ROLLBACK in working:
        assert Registry(two_champions).aliases() == {"champion": "v0001"}
