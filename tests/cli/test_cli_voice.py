"""One CLI voice across every `patchrisk` command: the warehouse is `--warehouse PATH`
(`--duckdb` a hidden alias), every command has `--json`, every error is one `error: ...`
line with its exit code (the same hint for a missing warehouse), text fits 100 columns."""

from __future__ import annotations

import json
from pathlib import Path

import click
import duckdb
import pytest
from click.testing import CliRunner, Result

from ml.cli import main
from ml.cli.gate import gate
from ml.warehouse.readers import BUILD_HINT


def _leaves(group: click.Group, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], click.Command]:
    """Every runnable command by its words, e.g. ("models", "list")."""
    found = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.update(_leaves(command, (*path, name)))
        else:
            found[(*path, name)] = command
    return found


COMMANDS = _leaves(main)
WAREHOUSE_COMMANDS = sorted(
    words for words, command in COMMANDS.items() if "warehouse" in {p.name for p in command.params}
)
# what a reader of the warehouse needs besides it to get as far as opening it
READER_ARGS = {
    ("canary",): ["--release", "ares-4.2.0"],
    ("gate",): ["--release", "ares-4.2.0"],
}
BUILDERS = {("build",), ("pipeline",)}  # they create a missing warehouse


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="patchrisk", catch_exceptions=False)


def _assert_one_line_error(result: Result, code: int, text: str = "") -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], lines


def _ids(words: tuple[str, ...]) -> str:
    return " ".join(words)


def test_the_commands_that_read_or_write_the_warehouse_all_name_it_warehouse() -> None:
    assert {words[0] for words in WAREHOUSE_COMMANDS} == {
        *("build", "docs", "audit-labels", "train", "score", "gate", "drift", "retrain"),
        *("pipeline", "monitor", "canary", "export", "report"),
    }


@pytest.mark.parametrize("words", WAREHOUSE_COMMANDS, ids=_ids)
def test_warehouse_option_and_its_hidden_alias(words: tuple[str, ...]) -> None:
    params = {p.name: p for p in COMMANDS[words].params}
    assert params["duckdb_alias"].opts == ["--duckdb"] and params["duckdb_alias"].hidden
    help_text = _run(*words, "--help").stdout
    assert "--warehouse PATH" in help_text and "--duckdb" not in help_text


@pytest.mark.parametrize("words", sorted(set(WAREHOUSE_COMMANDS) - BUILDERS), ids=_ids)
@pytest.mark.parametrize("option", ["--warehouse", "--duckdb"])
def test_a_missing_warehouse_is_one_line_exit_3_with_the_one_hint(
    words: tuple[str, ...], option: str, tmp_path: Path
) -> None:
    missing = tmp_path / "none.duckdb"
    result = _run(*words, *READER_ARGS.get(words, []), option, str(missing), "--json")
    _assert_one_line_error(result, 3, f"no warehouse at {missing} ({BUILD_HINT})")


@pytest.mark.parametrize("words", WAREHOUSE_COMMANDS, ids=_ids)
def test_warehouse_and_duckdb_together_is_a_usage_error(words: tuple[str, ...]) -> None:
    result = _run(*words, "--warehouse", "a.duckdb", "--duckdb", "b.duckdb")
    _assert_one_line_error(result, 2, "--duckdb is its old name")


@pytest.mark.parametrize("words", sorted(COMMANDS), ids=_ids)
def test_every_command_has_json(words: tuple[str, ...]) -> None:
    assert "--json" in _run(*words, "--help").stdout


@pytest.mark.parametrize("words", sorted(COMMANDS), ids=_ids)
def test_usage_errors_are_one_line_exit_2(words: tuple[str, ...]) -> None:
    hint = f"(see patchrisk {' '.join(words)} --help)"
    _assert_one_line_error(_run(*words, "--no-such-option"), 2, hint)
    _assert_one_line_error(_run(*words, "--json=yes"), 2, "does not take a value")


def test_a_group_without_a_command_prints_its_help() -> None:
    for words in ([], ["models"]):
        result = _run(*words)
        assert result.exit_code == 0 and result.stdout.startswith("Usage: ")
        assert result.stderr == ""


def test_the_gate_run_on_its_own_speaks_the_same(tmp_path: Path) -> None:
    """scripts/risk_gate.py runs the gate command alone: the same errors."""
    runner = CliRunner()
    usage = runner.invoke(gate, ["--no-such-option"], prog_name="risk_gate.py")
    _assert_one_line_error(usage, 2, "(see risk_gate.py --help)")
    missing = tmp_path / "none.duckdb"
    result = runner.invoke(gate, ["--release", "ares-4.2.0", "--warehouse", str(missing)])
    _assert_one_line_error(result, 3, f"no warehouse at {missing} ({BUILD_HINT})")


def test_gate_json_is_format_json() -> None:
    _assert_one_line_error(
        _run("gate", "--json", "--format", "text", "x.csv"), 2, "--json means --format json"
    )


# ---- on a built warehouse with a champion ---------------------------------------------
def _release_ids(warehouse: Path, n: int) -> list[str]:
    sql = "select release_id from marts.fct_release_features order by release_date desc limit ?"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [r[0] for r in con.execute(sql, [n]).fetchall()]


def _tables(warehouse: Path, registry: Path, raw_dir: Path) -> dict[str, list[str]]:
    """The commands that print tables, as `make run` would call them."""
    at = ["--warehouse", str(warehouse)]
    reg = ["--registry", str(registry)]
    releases = ",".join(_release_ids(warehouse, 20))
    return {
        "monitor": ["monitor", *at, "--limit", "0"],
        "canary": ["canary", "--release", releases.split(",")[0], *at],
        "canary --evaluate": ["canary", "--evaluate", "--no-write", "--raw-dir", str(raw_dir), *at],
        "models list": ["models", "list", *reg],
        "models show": ["models", "show", *reg],
        "gate": ["gate", "--release", releases, "--format", "text", *at, *reg],
        "drift": ["drift", "--no-record", *at, *reg],
        "audit-labels": ["audit-labels", "--raw-dir", str(raw_dir), *at],
    }


def test_text_output_fits_100_columns_and_json_parses(
    ml_warehouse: Path, trained_registry: Path, ml_world: Path
) -> None:
    for name, args in _tables(ml_warehouse, trained_registry, ml_world).items():
        text = _run(*args)
        assert text.exit_code in (0, 1), (name, text.output)  # 1: a gate block, drift
        too_long = [line for line in text.stdout.splitlines() if len(line) > 100]
        assert text.stdout and not too_long, (name, too_long)
        as_json = _run(*[a for a in args if a not in ("--format", "text")], "--json")
        assert as_json.exit_code == text.exit_code, (name, as_json.output)
        json.loads(as_json.stdout)  # one document
