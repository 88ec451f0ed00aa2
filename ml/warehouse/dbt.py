"""Build the DuckDB warehouse with dbt and read its results.

dbt runs in a subprocess (one process per build: dbt-duckdb keeps per-process state) from the
repo root, with `profiles.yml` there and the project in `dbt_project/`. Where the raw tables
live and which DuckDB file to write are passed through the environment variables the dbt
project reads (PATCHRISK_RAW_DIR, PATCHRISK_RAW_FORMAT, PATCHRISK_DUCKDB_PATH).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd

from ml.errors import EnvironmentFailure

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_MAIN = "import sys; from dbt.cli.main import cli; sys.exit(cli())"
PROJECT_DIR = REPO_ROOT / "dbt_project"


def default_duckdb_path() -> Path:
    """PATCHRISK_DUCKDB_PATH, else warehouse/patchrisk.duckdb under the repo root."""
    return Path(
        os.environ.get("PATCHRISK_DUCKDB_PATH", REPO_ROOT / "warehouse" / "patchrisk.duckdb")
    )


def default_raw_dir() -> Path:
    """PATCHRISK_RAW_DIR, else the embedded default world in seeds/."""
    return Path(os.environ.get("PATCHRISK_RAW_DIR", REPO_ROOT / "seeds"))


RawFormat = Literal["csv", "parquet"]
DbtCommand = Literal["build", "run", "test", "compile", "docs generate"]


@dataclass(frozen=True)
class NodeResult:
    """One dbt node's outcome, from run_results.json."""

    name: str
    resource_type: str
    status: str  # success | error | skipped | pass | fail | warn | ...
    failures: int | None
    message: str | None


@dataclass(frozen=True)
class BuildResult:
    """What a dbt invocation did."""

    success: bool
    returncode: int
    duckdb_path: Path
    elapsed_seconds: float
    nodes: list[NodeResult] = field(default_factory=list)
    log: str = ""

    def tests_with_status(self, *statuses: str) -> dict[str, int]:
        """Data tests with one of the statuses, as {test name: failing rows}."""
        return {
            n.name: n.failures or 0
            for n in self.nodes
            if n.resource_type == "test" and n.status in statuses
        }


@dataclass(frozen=True)
class BuildConfig:
    """Where a build reads raw data and writes the warehouse, plus dbt var overrides."""

    raw_dir: Path = field(default_factory=default_raw_dir)
    raw_format: RawFormat = "csv"
    duckdb_path: Path = field(default_factory=default_duckdb_path)
    dbt_vars: dict[str, object] = field(default_factory=dict)
    select: str | None = None
    threads: int | None = None
    target: str | None = None  # a profiles.yml output (default: duckdb; `spark`: make test-spark)


def dbt_env(config: BuildConfig) -> dict[str, str]:
    """The process environment a dbt run for `config` needs."""
    env = dict(os.environ)
    env.update(
        PATCHRISK_RAW_DIR=str(Path(config.raw_dir).resolve()),
        PATCHRISK_RAW_FORMAT=config.raw_format,
        PATCHRISK_DUCKDB_PATH=str(Path(config.duckdb_path).resolve()),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    return env


def dbt_args(command: DbtCommand, config: BuildConfig, target_path: Path) -> list[str]:
    """Command-line arguments for `dbt <command>` (without the executable)."""
    args = [
        *command.split(),
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(REPO_ROOT),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path),
        "--no-use-colors",
    ]
    if config.dbt_vars:
        args += ["--vars", json.dumps(config.dbt_vars)]
    if config.select:
        args += ["--select", config.select]
    if config.threads:
        args += ["--threads", str(config.threads)]
    if config.target:
        args += ["--target", config.target]
    return args


def read_run_results(target_path: Path) -> list[NodeResult]:
    """Parse dbt's run_results.json (empty when dbt failed before running anything)."""
    path = target_path / "run_results.json"
    if not path.exists():
        return []
    results = json.loads(path.read_text())["results"]
    return [
        NodeResult(
            name=r["unique_id"].split(".")[2],
            resource_type=r["unique_id"].split(".")[0],
            status=r["status"],
            failures=r.get("failures"),
            message=r.get("message"),
        )
        for r in results
    ]


def run_dbt(
    command: DbtCommand = "build",
    config: BuildConfig | None = None,
    target_path: Path | None = None,
) -> BuildResult:
    """Run one dbt command; `target_path` defaults to a fresh temporary directory."""
    config = config or BuildConfig()
    Path(config.duckdb_path).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dbt_target_") as tmp:
        target = Path(target_path) if target_path else Path(tmp)
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", DBT_MAIN, *dbt_args(command, config, target)],
            cwd=REPO_ROOT,
            env=dbt_env(config),
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        nodes = read_run_results(target)
    return BuildResult(
        success=proc.returncode == 0,
        returncode=proc.returncode,
        duckdb_path=Path(config.duckdb_path),
        elapsed_seconds=elapsed,
        nodes=nodes,
        log=proc.stdout + proc.stderr,
    )


def build(config: BuildConfig | None = None) -> BuildResult:
    """`dbt build`: every model, data test and unit test of the project."""
    return run_dbt("build", config)


def read_table(duckdb_path: Path, relation: str) -> pd.DataFrame:
    """A whole warehouse relation (e.g. `marts.fct_release_features`) as a DataFrame."""
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return con.execute(f"select * from {relation}").df()


ML_SCHEMA = "ml"
Contract = tuple[tuple[str, str], ...]  # (column, DuckDB type) in order


def write_ml_tables(
    duckdb_path: Path, tables: dict[str, tuple[pd.DataFrame, Contract]], append: bool = False
) -> dict[str, int]:
    """Replace (or append to) each `ml.<name>` with its frame cast to its contract, all in
    one transaction; returns the rows each table then holds."""
    path = Path(duckdb_path)
    if not path.is_file():
        raise EnvironmentFailure(f"no warehouse at {path}")
    try:
        with duckdb.connect(str(path)) as con:
            con.execute("begin transaction")
            try:
                con.execute(f"create schema if not exists {ML_SCHEMA}")
                for name, (frame, contract) in tables.items():
                    con.register("ml_frame", frame)
                    select = ", ".join(f"cast({c} as {t}) as {c}" for c, t in contract)
                    if append:
                        columns = ", ".join(f"{c} {t}" for c, t in contract)
                        con.execute(f"create table if not exists {ML_SCHEMA}.{name} ({columns})")
                        con.execute(f"insert into {ML_SCHEMA}.{name} select {select} from ml_frame")
                    else:
                        con.execute(
                            f"create or replace table {ML_SCHEMA}.{name} as "
                            f"select {select} from ml_frame"
                        )
                    con.unregister("ml_frame")
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
            return {
                name: int(con.execute(f"select count(*) from {ML_SCHEMA}.{name}").fetchall()[0][0])
                for name in tables
            }
    except duckdb.Error as exc:
        raise EnvironmentFailure(f"cannot write {ML_SCHEMA} tables to {path}: {exc}") from exc
