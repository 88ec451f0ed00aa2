"""Readers never break the pipeline, and a failed write never leaves readers a half-built
warehouse (ml.warehouse.publishing): a BI tool's read-only connection stays open in another
process while `patchrisk build` and `score` write, and keeps its old snapshot."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ml.warehouse.dbt import REPO_ROOT, write_ml_tables
from ml.warehouse.filesystem import WAIT_ENV
from tests.faults.conftest import run_patchrisk

READER = """
import json, sys
import duckdb
from tests.dbt.test_readers_and_writers import fingerprint

con = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps(fingerprint(con)), flush=True)
for _ in sys.stdin:
    print(json.dumps(fingerprint(con)), flush=True)
"""
# A quick build that changes the warehouse: one mart, 20 days per stability curve, not 28.
CHANGING_BUILD = ("--select", "fct_stability_curves", "--var", "stability_curve_days=20")


def fingerprint(con) -> dict[str, list]:
    """Each table's rows and content hash, and each view's SQL, seen by connection `con`."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' order by all"
    ).fetchall()
    state = {
        f"{schema}.{table}": list(
            con.execute(
                f'select count(*), cast(sum(hash(r)) as varchar) from "{schema}"."{table}" as r'
            ).fetchone()
        )
        for schema, table in tables
    }
    views = con.execute(
        "select schema_name || '.' || view_name, sql from duckdb_views() where not internal"
    ).fetchall()
    return state | {name: [sql] for name, sql in views}


def published_state(path: Path) -> dict[str, list]:
    """What a new reader of the published warehouse sees."""
    with duckdb.connect(str(path), read_only=True) as con:
        return fingerprint(con)


class BIReader:
    """A separate process holding one read-only connection open, as a BI tool does."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", READER, str(path)],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.opened = self._read()

    def _read(self) -> dict[str, list]:
        line = self.proc.stdout.readline()
        assert line, "the reader died"
        return json.loads(line)

    def snapshot(self) -> dict[str, list]:
        """What the open connection reads now."""
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.proc.stdin.close()
        assert self.proc.wait(timeout=60) == 0

    def __enter__(self) -> BIReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def warehouse(default_warehouse: Path, tmp_path: Path) -> Path:
    path = tmp_path / "wh" / "patchrisk.duckdb"
    path.parent.mkdir()
    shutil.copy(default_warehouse, path)
    return path


def leftovers(warehouse: Path) -> list[str]:
    """Files beside the warehouse other than it and its lock file."""
    expected = {warehouse.name, f".{warehouse.name}.lock"}
    return sorted(p.name for p in warehouse.parent.iterdir() if p.name not in expected)


def test_build_and_score_succeed_while_a_bi_reader_is_connected(warehouse: Path) -> None:
    """Any open read-only connection used to fail `patchrisk build` and `score` with a
    DuckDB "Conflicting lock" traceback."""
    with BIReader(warehouse) as reader:
        old = reader.opened
        built = run_patchrisk(["build", "--warehouse", str(warehouse), *CHANGING_BUILD])
        assert built.returncode == 0, built.stderr[-3000:]
        scored = run_patchrisk(["score", "--warehouse", str(warehouse)])
        assert scored.returncode == 0, scored.stderr[-3000:]
        assert reader.snapshot() == old  # the open reader keeps its consistent snapshot
    new = published_state(warehouse)
    assert new["marts.fct_stability_curves"][0] < old["marts.fct_stability_curves"][0]
    assert set(new) == set(old) | {"ml.release_risk_scores", "ml.qa_ranking_evaluation"}
    assert leftovers(warehouse) == []


def test_a_failed_build_leaves_the_published_warehouse_untouched(
    warehouse: Path, tmp_path: Path
) -> None:
    """A build that fails half-way (a duplicate event id fails its raw_fault test after the
    staging view and the quarantine mart were replaced) used to leave the half-rebuilt file
    to readers."""
    raw = tmp_path / "raw"
    shutil.copytree(REPO_ROOT / "seeds", raw)
    with (raw / "error_events.csv").open("r+") as events:
        last = events.readlines()[-1]
        events.write(last)
    before, state = sha256(warehouse), published_state(warehouse)
    models = "stg_fleet__error_events int_error_events_screened fct_quarantined_raw_rows"
    select = ("--select", models)
    failed = run_patchrisk(["build", "--raw-dir", str(raw), "--warehouse", str(warehouse), *select])
    assert failed.returncode == 3, failed.stderr[-3000:]
    assert "raw_fault__error_events__duplicate_event_id" in failed.stderr
    assert sha256(warehouse) == before
    assert published_state(warehouse) == state
    assert leftovers(warehouse) == []


@pytest.mark.parametrize("command", ["score", "build"])
def test_a_second_writer_waits_for_the_first_then_gives_up_with_one_line(
    warehouse: Path, command: str
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from ml.warehouse.dbt import publishing\n"
            "with publishing(sys.argv[1]):\n"
            "    print('holding', flush=True); time.sleep(120)\n",
            str(warehouse),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        before = sha256(warehouse)
        args = {"score": ["--warehouse"], "build": [*CHANGING_BUILD, "--warehouse"]}[command]
        waited = run_patchrisk([command, *args, str(warehouse)], env={WAIT_ENV: "1"})
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert waited.returncode == 3
    *_, waiting, error = waited.stderr.strip().splitlines()  # build first says what it builds
    assert waiting.startswith("waiting for another patchrisk process (pid ")
    assert error == (
        f"error: another patchrisk process (pid {holder.pid}) is still writing the warehouse "
        f"{warehouse.resolve()} after 1 s; retry when it has finished (or raise {WAIT_ENV})"
    )
    assert "Traceback" not in waited.stderr
    assert sha256(warehouse) == before
    # the holder was killed holding a working copy: the next writer cleans it up
    assert run_patchrisk([command, *args, str(warehouse)]).returncode == 0
    assert leftovers(warehouse) == []


KILLED_IN_PLACE_WRITER = """
import os, signal, sys
import duckdb

con = duckdb.connect(sys.argv[1])
con.execute("create table main.kept as select 1 as x")
con.execute("checkpoint")
con.execute("insert into main.kept values (2)")  # only in the write-ahead log
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_in_place_writers_log_is_kept_and_folded_in(tmp_path: Path) -> None:
    """`dbt build` run by hand writes in place; killed, it leaves a .wal beside the file.
    The next publish keeps what the log holds and leaves no log to replay onto the new file."""
    path = tmp_path / "patchrisk.duckdb"
    subprocess.run([sys.executable, "-c", KILLED_IN_PLACE_WRITER, str(path)], check=False)
    assert path.with_name(path.name + ".wal").exists()
    frame = pd.DataFrame({"n": [1]})
    assert write_ml_tables(path, {"probe": (frame, (("n", "integer"),))}) == {"probe": 1}
    assert not path.with_name(path.name + ".wal").exists()
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select x from main.kept order by x").fetchall() == [(1,), (2,)]
        assert con.execute("select n from ml.probe").fetchall() == [(1,)]
