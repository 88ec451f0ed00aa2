"""dbt by hand, as an analytics engineer runs it: from dbt_project/ or from the repo root,
with no environment variable set. Paths resolve against the repository, not the current
folder, and no view stores a path relative to the folder dbt ran in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO_ROOT

DBT = str(Path(sys.executable).parent / "dbt")


@pytest.fixture(scope="module")
def repo_copy(small_world_csv: Path, tmp_path_factory) -> Path:
    """The repository's dbt files in a fresh folder, with the small world as seeds/."""
    repo = tmp_path_factory.mktemp("repo")
    shutil.copy(REPO_ROOT / "profiles.yml", repo)
    shutil.copytree(
        REPO_ROOT / "dbt_project",
        repo / "dbt_project",
        symlinks=True,
        ignore=shutil.ignore_patterns("target", "logs"),
    )
    shutil.copytree(small_world_csv, repo / "seeds")
    (repo / "warehouse").mkdir()  # committed (empty) in the repository
    return repo


def dbt_by_hand(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """`dbt ARGS` in `cwd` with no PATCHRISK_* or DBT_* variable but `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PATCHRISK_", "DBT_"))}
    return subprocess.run(
        [DBT, *args], cwd=cwd, env={**clean, **env}, capture_output=True, text=True, check=False
    )


def run_dbt_by_hand(args: list[str], cwd: Path, **env: str) -> None:
    proc = dbt_by_hand(args, cwd, **env)
    assert proc.returncode == 0, proc.stdout[-4000:]


def view_sql(warehouse: Path) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select schema_name, view_name, sql from duckdb_views() where not internal"
        )
        return {f"{schema}.{name}": sql for schema, name, sql in rows.fetchall()}


def test_dbt_build_from_dbt_project_and_read_from_elsewhere(
    repo_copy: Path, tmp_path: Path, monkeypatch
) -> None:
    run_dbt_by_hand(["build"], cwd=repo_copy / "dbt_project")
    warehouse = repo_copy / "warehouse" / "patchrisk.duckdb"
    assert warehouse.is_file()  # beside the repo's seeds/, not under dbt_project/
    assert not (repo_copy / "dbt_project" / "warehouse").exists()
    assert (repo_copy / "dbt_project" / "target" / "run_results.json").is_file()
    assert (repo_copy / "dbt_project" / "logs" / "dbt.log").is_file()

    monkeypatch.chdir(tmp_path)  # a reader started in another folder
    views = view_sql(warehouse)
    assert "staging.stg_fleet__error_events" in views
    assert f"'{repo_copy}/seeds/error_events.csv'" in views["staging.stg_fleet__error_events"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = {view: con.execute(f"select count(*) from {view}").fetchone()[0] for view in views}
    assert all(n > 0 for view, n in rows.items() if ".stg_fleet__" in view), rows


def test_dbt_from_the_repo_root_writes_the_same_views(repo_copy: Path) -> None:
    warehouse = repo_copy / "warehouse" / "patchrisk.duckdb"
    run_dbt_by_hand(["run", "--select", "staging"], cwd=repo_copy / "dbt_project")
    from_project = view_sql(warehouse)
    run_dbt_by_hand(["run", "--project-dir", "dbt_project", "--select", "staging"], cwd=repo_copy)
    assert view_sql(warehouse) == from_project


def test_a_relative_raw_folder_is_refused(repo_copy: Path) -> None:
    args = ["run", "--select", "stg_fleet__devices"]
    proc = dbt_by_hand(args, repo_copy / "dbt_project", PATCHRISK_RAW_DIR="../seeds")
    assert proc.returncode != 0
    assert "the raw data folder '../seeds' is a relative path" in proc.stdout


def test_a_parse_from_elsewhere_is_not_reused_with_its_paths(repo_copy: Path) -> None:
    """Partial parsing keeps rendered raw paths: a parse whose profiles dir was relative
    (`--profiles-dir .`, rendering `./seeds`) must not leak into a run from dbt_project/,
    even with the warehouse path set the same for both (as the Makefile exports it)."""
    warehouse = repo_copy / "warehouse" / "patchrisk.duckdb"
    same = {"PATCHRISK_DUCKDB_PATH": str(warehouse)}
    parse = ["parse", "--project-dir", "dbt_project", "--profiles-dir", "."]
    run_dbt_by_hand(parse, repo_copy, **same)
    run_dbt_by_hand(["run", "--select", "stg_fleet__devices"], repo_copy / "dbt_project", **same)
    assert f"'{repo_copy}/seeds/devices.csv'" in view_sql(warehouse)["staging.stg_fleet__devices"]
