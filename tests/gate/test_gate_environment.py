"""Exit 3: no warehouse, no marts, no registry or champion, a model hash mismatch, a
warehouse locked by a writer; and a dbt build running beside the gate never yields a crash
or a wrong answer."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ml.modeling.registry import CLASSIFIER_FILE
from ml.warehouse.dbt import DBT_MAIN, REPO_ROOT, BuildConfig, dbt_args, dbt_env
from tests.gate.conftest import GateWorld, assert_one_line_error, run, write_csv

HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("begin transaction")
con.execute("create or replace table marts.lock_probe as select 1 as x")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.execute("commit")
con.close()
"""


@pytest.fixture
def patches(gate_world: GateWorld, tmp_path: Path) -> Path:
    return write_csv(tmp_path / "patches.csv", [gate_world.patch(i) for i in range(4)])


def _args(world: GateWorld, warehouse: Path, registry: Path, *extra: str) -> list[str]:
    return ["gate", "--warehouse", str(warehouse), "--registry", str(registry), *extra]


def test_no_warehouse(gate_world: GateWorld, patches: Path, tmp_path: Path) -> None:
    args = _args(gate_world, tmp_path / "none.duckdb", gate_world.registry, str(patches))
    assert_one_line_error(run(args), 3, "no warehouse")


def test_warehouse_without_marts(gate_world: GateWorld, patches: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    args = _args(gate_world, empty, gate_world.registry, str(patches))
    assert_one_line_error(run(args), 3, "lacks a mart")


def test_not_a_duckdb_file(gate_world: GateWorld, patches: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("not a database")
    args = _args(gate_world, bogus, gate_world.registry, str(patches))
    assert_one_line_error(run(args), 3, "cannot open the warehouse")


def test_no_registry(gate_world: GateWorld, patches: Path, tmp_path: Path) -> None:
    args = _args(gate_world, gate_world.warehouse, tmp_path / "nothing", str(patches))
    assert_one_line_error(run(args), 3, "no model registry")


def test_no_champion(gate_world: GateWorld, patches: Path, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    shutil.copytree(gate_world.registry, registry)
    (registry / "aliases.json").write_text("{}")
    args = _args(gate_world, gate_world.warehouse, registry, str(patches))
    assert_one_line_error(run(args), 3, "no champion model")


def test_unknown_model_version_is_a_bad_request(gate_world: GateWorld, patches: Path) -> None:
    args = _args(gate_world, gate_world.warehouse, gate_world.registry, str(patches))
    assert_one_line_error(run([*args, "--model", "v0042"]), 2, "no model version 'v0042'")


def test_model_hash_mismatch(gate_world: GateWorld, patches: Path, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    shutil.copytree(gate_world.registry, registry)
    path = registry / "v0001" / CLASSIFIER_FILE
    data = path.read_bytes()
    path.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    args = _args(gate_world, gate_world.warehouse, registry, str(patches))
    assert_one_line_error(run(args), 3, "SHA-256")


def test_unwritable_output(gate_world: GateWorld, patches: Path, tmp_path: Path) -> None:
    out = tmp_path / "missing-dir" / "report.json"
    result = run(gate_world.args(str(patches), "--output", str(out)))
    assert_one_line_error(result, 3, "cannot write")


def _hold_lock(warehouse: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(warehouse), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


@pytest.fixture
def warehouse_copy(gate_world: GateWorld, tmp_path: Path) -> Path:
    dest = tmp_path / "patchrisk.duckdb"
    shutil.copy(gate_world.warehouse, dest)
    return dest


def test_locked_warehouse_exits_3(
    gate_world: GateWorld, patches: Path, warehouse_copy: Path
) -> None:
    writer = _hold_lock(warehouse_copy, 30)
    try:
        args = _args(gate_world, warehouse_copy, gate_world.registry, str(patches))
        started = time.monotonic()
        assert_one_line_error(run(args), 3, "locked by a writer", "dbt build")
        assert time.monotonic() - started < 5
    finally:
        writer.kill()
        writer.wait()


def test_lock_timeout_waits_for_the_writer(
    gate_world: GateWorld, patches: Path, warehouse_copy: Path
) -> None:
    baseline = json.loads(run(gate_world.args(str(patches))).stdout)
    writer = _hold_lock(warehouse_copy, 1.0)
    try:
        args = _args(gate_world, warehouse_copy, gate_world.registry, str(patches))
        result = run([*args, "--lock-timeout", "30"])
    finally:
        writer.wait()
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.stdout)["results"] == baseline["results"]


def test_gate_during_a_dbt_build(
    gate_world: GateWorld, patches: Path, warehouse_copy: Path, tmp_path: Path
) -> None:
    """Gate runs while `dbt run` rebuilds the warehouse: each either exits 3 (locked) with a
    clear message or returns exactly the answer of the finished warehouse."""
    baseline = json.loads(run(gate_world.args(str(patches))).stdout)["results"]
    config = BuildConfig(raw_dir=gate_world.raw_dir, duckdb_path=warehouse_copy)
    log = tmp_path / "dbt.log"  # a file, not a pipe: nothing to drain while the gate runs
    with open(log, "w") as out:
        dbt = subprocess.Popen(
            # its own target folder, not patchrisk's (the last --target-path wins)
            [
                *(sys.executable, "-c", DBT_MAIN),
                *dbt_args("run", config),
                "--target-path",
                tmp_path,
            ],
            cwd=REPO_ROOT,
            env=dbt_env(config),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    while " START " not in log.read_text() and dbt.poll() is None:  # dbt holds the warehouse
        time.sleep(0.05)
    args = _args(gate_world, warehouse_copy, gate_world.registry, str(patches))
    outcomes = {"locked": 0, "answered": 0}
    while dbt.poll() is None:
        result = run(args)
        if result.exit_code == 3:
            assert_one_line_error(result, 3, "locked by a writer")
            outcomes["locked"] += 1
        else:
            assert result.exit_code in (0, 1), result.output
            assert json.loads(result.stdout)["results"] == baseline
            outcomes["answered"] += 1
        time.sleep(0.05)
    assert dbt.returncode == 0, log.read_text()[-3000:]
    assert outcomes["locked"] > 0, outcomes
    final = run(args)
    assert json.loads(final.stdout)["results"] == baseline
