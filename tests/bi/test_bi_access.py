"""BI access: `patchrisk export` writes every public mart as Parquet, and a separate process
reads the marts the way a BI tool does (read-only DuckDB, SQLAlchemy + duckdb-engine)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from tests.bi.conftest import BIN

BI_READER = textwrap.dedent(
    """
    import json, sys
    import duckdb
    import sqlalchemy as sa

    warehouse, export_dir = sys.argv[1], sys.argv[2]
    out = {}
    con = duckdb.connect(warehouse, read_only=True)
    out["duckdb"] = con.execute(
        "select count(*) from marts.fct_release_outcomes"
    ).fetchone()[0]
    try:
        con.execute("create table marts.bi_scratch as select 1 as x")
        out["duckdb_write"] = "allowed"
    except duckdb.Error as exc:
        out["duckdb_write"] = type(exc).__name__
    con.close()

    engine = sa.create_engine(f"duckdb:///{warehouse}?access_mode=read_only")
    with engine.connect() as conn:
        out["sqlalchemy_tables"] = sorted(sa.inspect(conn).get_table_names(schema="marts"))
        out["sqlalchemy"] = conn.execute(
            sa.text("select count(*) from marts.fct_release_outcomes")
        ).scalar()
        out["sqlalchemy_regressions"] = conn.execute(
            sa.text("select count(*) from marts.fct_release_outcomes where is_regression")
        ).scalar()
    engine.dispose()

    out["parquet"] = {
        name: duckdb.sql(
            f"select count(*) from read_parquet('{export_dir}/{name}.parquet')"
        ).fetchall()[0][0]
        for name in out["sqlalchemy_tables"]
    }
    print(json.dumps(out))
    """
)


def patchrisk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "patchrisk"), *args], capture_output=True, text=True, timeout=300
    )


def mart_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [
            n
            for (n,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {n: con.execute(f"select count(*) from marts.{n}").fetchone()[0] for n in names}


@pytest.fixture(scope="module")
def exported(scored_warehouse: Path, tmp_path_factory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("bi_export") / "exports"
    result = patchrisk("export", "--duckdb", str(scored_warehouse), "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    return out, json.loads(result.stdout)


def test_export_writes_every_public_mart(scored_warehouse: Path, exported) -> None:
    out, report = exported
    counts = mart_counts(scored_warehouse)
    assert "fct_release_outcomes" in counts and "fct_qa_priority_queue" in counts
    assert {r["mart"]: r["rows"] for r in report} == counts
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.parquet" for n in counts)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".exports.")]


def test_bi_tool_reads_marts_from_a_separate_process(scored_warehouse: Path, exported) -> None:
    out, _ = exported
    result = subprocess.run(
        [sys.executable, "-c", BI_READER, str(scored_warehouse), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    counts = mart_counts(scored_warehouse)
    assert seen["duckdb"] == seen["sqlalchemy"] == counts["fct_release_outcomes"] > 0
    assert seen["duckdb_write"] != "allowed"  # a BI session cannot change the warehouse
    assert seen["sqlalchemy_regressions"] > 0
    assert seen["sqlalchemy_tables"] == sorted(counts)
    assert seen["parquet"] == counts


def test_export_replaces_atomically_and_keeps_the_old_export_on_failure(
    scored_warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    out.mkdir()
    (out / "stale.parquet").write_bytes(b"old")
    assert patchrisk("export", "--duckdb", str(scored_warehouse), "--out", str(out)).returncode == 0
    assert not (out / "stale.parquet").exists()
    assert (out / "fct_release_outcomes.parquet").is_file()
    before = sorted(p.name for p in out.iterdir())

    missing = patchrisk("export", "--duckdb", str(tmp_path / "nope.duckdb"), "--out", str(out))
    assert missing.returncode == 3
    assert missing.stderr.startswith("error: no warehouse at")
    assert sorted(p.name for p in out.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports"]


def test_export_fails_cleanly_while_a_writer_holds_the_warehouse(
    scored_warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "patchrisk.duckdb"
    copy.write_bytes(scored_warehouse.read_bytes())
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
            "time.sleep(60)",
            str(copy),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "ok"
        locked = patchrisk("export", "--duckdb", str(copy), "--out", str(tmp_path / "exports"))
    finally:
        writer.kill()
        writer.wait()
    assert locked.returncode == 3
    assert "locked by a writer" in locked.stderr
    assert not (tmp_path / "exports").exists()
