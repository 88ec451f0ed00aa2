"""The same dbt project on Spark (dbt-spark, session mode, local pyspark) and on DuckDB:
one small generated world, built on both engines, gives the same marts (every table in
schema `marts`): row counts and, per column, null counts plus the sum of a numeric column
or the number of distinct values of any other. Needs the `spark` extra and Java 17; run
with `make test-spark` (skipped unless `-m spark`)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ml.warehouse.dbt import BuildConfig, BuildResult, build

pytestmark = pytest.mark.spark
REL_TOLERANCE = 1e-6  # float sums: the engines may aggregate in a different order


@pytest.fixture(autouse=True, scope="module")
def _only_with_marker(request) -> None:
    if "spark" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("spark: run with make test-spark (pytest -m spark)")


@pytest.fixture(scope="module")
def spark_dir(tmp_path_factory) -> Path:
    """Warehouse and Derby metastore of the Spark build (profiles.yml reads the env var)."""
    path = Path(os.environ.get("PATCHRISK_SPARK_DIR") or tmp_path_factory.mktemp("spark"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATCHRISK_SPARK_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def duckdb_build(small_world_parquet: Path, tmp_path_factory) -> BuildResult:
    path = tmp_path_factory.mktemp("wh_duckdb") / "patchrisk.duckdb"
    result = build(BuildConfig(raw_dir=small_world_parquet, raw_format="parquet", duckdb_path=path))
    assert result.success, result.log[-4000:]
    return result


@pytest.fixture(scope="module")
def spark_build(small_world_parquet: Path, spark_dir: Path, tmp_path_factory) -> BuildResult:
    config = BuildConfig(
        raw_dir=small_world_parquet,
        raw_format="parquet",
        duckdb_path=tmp_path_factory.mktemp("wh_unused") / "unused.duckdb",
        target="spark",
    )
    result = build(config)
    assert result.success, result.log[-6000:]
    return result


@pytest.fixture(scope="module")
def spark_session(spark_build: BuildResult, spark_dir: Path):
    """A Spark session on the metastore the build wrote (dbt has exited: Derby is free)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("patchrisk-spark-parity")
        .enableHiveSupport()
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", f"{spark_dir}/warehouse")
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=true",
        )
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={spark_dir}")
        .getOrCreate()
    )
    yield session
    session.stop()


def duckdb_marts(path: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {name: con.execute(f"select * from marts.{name}").df() for name in names}


def spark_marts(session) -> dict[str, pd.DataFrame]:
    names = [table.name for table in session.catalog.listTables("marts")]
    return {name: session.table(f"marts.{name}").toPandas() for name in names}


def checksums(frame: pd.DataFrame, numeric: set[str]) -> dict[str, float]:
    """Row count; per column its nulls and the sum (numeric) or distinct values (other)."""
    sums: dict[str, float] = {"rows": len(frame)}
    for column in frame.columns:
        values = frame[column]
        sums[f"{column}:nulls"] = int(values.isna().sum())
        if column in numeric:
            sums[f"{column}:sum"] = float(pd.to_numeric(values.dropna()).astype(float).sum())
        else:
            sums[f"{column}:distinct"] = int(values.dropna().astype(str).nunique())
    return sums


def test_spark_build_is_clean(spark_build: BuildResult) -> None:
    statuses = {n.status for n in spark_build.nodes}
    assert statuses <= {"success", "pass", "no-op"}, statuses
    kinds = {n.resource_type for n in spark_build.nodes}
    assert {"model", "test", "unit_test"} <= kinds, kinds


def test_spark_marts_equal_duckdb(duckdb_build: BuildResult, spark_session) -> None:
    expected = duckdb_marts(duckdb_build.duckdb_path)
    actual = spark_marts(spark_session)
    assert sorted(actual) == sorted(expected)
    assert len(expected) >= 15
    mismatches = []
    for name, frame in sorted(expected.items()):
        other = actual[name]
        assert list(other.columns) == list(frame.columns), name
        numeric = {
            c
            for c in frame.columns
            if pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
        }
        want, got = checksums(frame, numeric), checksums(other, numeric)
        for key, value in want.items():
            ok = math.isclose(got[key], value, rel_tol=REL_TOLERANCE, abs_tol=1e-9)
            if not ok:
                mismatches.append(f"{name}.{key}: duckdb {value} spark {got[key]}")
    assert not mismatches, "\n".join(mismatches)
    assert sum(len(f) for f in expected.values()) > 1000
