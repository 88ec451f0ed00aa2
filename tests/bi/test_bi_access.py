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
    result = patchrisk("export", "--warehouse", str(scored_warehouse), "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    return out, json.loads(result.stdout)


def test_export_writes_every_public_mart_with_its_values_and_types(
    scored_warehouse: Path, exported
) -> None:
    out, report = exported
    counts = mart_counts(scored_warehouse)
    assert "fct_release_outcomes" in counts and "fct_qa_priority_queue" in counts
    assert {r["mart"]: r["rows"] for r in report} == counts
    assert sorted(p.name for p in out.glob("*.parquet")) == sorted(f"{n}.parquet" for n in counts)
    with duckdb.connect(str(scored_warehouse), read_only=True) as con:
        for name in counts:
            mart, parquet = f"marts.{name}", f"read_parquet('{out / name}.parquet')"
            types = "select column_name, column_type from (describe {})"
            assert (
                con.execute(types.format(mart)).fetchall()
                == con.execute(types.format(f"select * from {parquet}")).fetchall()
            ), name
            for a, b in ((mart, parquet), (parquet, mart)):  # the same rows, nulls included
                missing = f"select * from {a} except all select * from {b}"
                assert con.execute(f"select count(*) from ({missing})").fetchone() == (0,), name


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


def export_to(warehouse: Path, out: Path) -> subprocess.CompletedProcess:
    return patchrisk("export", "--warehouse", str(warehouse), "--out", str(out))


def test_export_replaces_the_previous_export_and_keeps_it_on_failure(
    scored_warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    assert export_to(scored_warehouse, out).returncode == 0
    first = out.resolve()
    assert out.is_symlink() and first.parent == tmp_path
    assert export_to(scored_warehouse, out).returncode == 0
    second = out.resolve()
    assert second != first and not first.exists()  # the previous export folder is removed
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    missing = export_to(tmp_path / "nope.duckdb", out)
    assert missing.returncode == 3
    assert missing.stderr.startswith("error: no warehouse at")
    assert out.resolve() == second
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["exports", second.name, ".exports.export.lock"]
    )


def test_export_replaces_an_empty_folder(scored_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "exports"
    out.mkdir()
    assert export_to(scored_warehouse, out).returncode == 0
    assert out.is_symlink() and (out / "fct_release_outcomes.parquet").is_file()


@pytest.mark.parametrize(
    "kind", ["folder with a user file", "parent folder", "file", "foreign link"]
)
def test_export_never_replaces_what_it_did_not_write(
    scored_warehouse: Path, tmp_path: Path, kind: str
) -> None:
    """`--out ..` once wiped the parent folder: an OUT that is not an (empty) export target is
    refused with exit 2, and every file stays."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (tmp_path / "notes.txt").write_text("mine")
    (scratch / "data.parquet").write_bytes(b"mine too")
    out = {
        "folder with a user file": scratch,
        "parent folder": scratch / "..",
        "file": tmp_path / "notes.txt",
        "foreign link": tmp_path / "link",
    }[kind]
    if kind == "foreign link":
        out.symlink_to(scratch)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = export_to(scored_warehouse, out)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "--out" in lines[0]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (scratch / "data.parquet").read_bytes() == b"mine too"


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
        locked = patchrisk("export", "--warehouse", str(copy), "--out", str(tmp_path / "exports"))
    finally:
        writer.kill()
        writer.wait()
    assert locked.returncode == 3
    assert "locked by a writer" in locked.stderr
    assert not (tmp_path / "exports").exists()
