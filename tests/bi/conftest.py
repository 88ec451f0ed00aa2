"""BI fixtures: the default world's warehouse scored by the committed champion, and a copy
of the dbt project with its semantic manifest parsed. Generated data, never mocks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ml.modeling.registry import Registry
from ml.operations.lifecycle import score_warehouse
from ml.warehouse.dbt import PROJECT_DIR, REPO_ROOT, BuildConfig, run_dbt

BIN = Path(sys.executable).parent


def bi_env(duckdb_path: Path, project_dir: Path) -> dict[str, str]:
    """Environment of a BI tool process: the repo's profile, this project and warehouse."""
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(REPO_ROOT),
        DBT_PROJECT_DIR=str(project_dir),
        PATCHRISK_DUCKDB_PATH=str(Path(duckdb_path).resolve()),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    return env


@pytest.fixture(scope="session")
def scored_warehouse(default_warehouse: Path, tmp_path_factory) -> Path:
    """A copy of the default world's warehouse with ml.release_risk_scores written by the
    champion in models_artifacts/ (the registry is only read) and, as `make run` does, what
    reads the scores rebuilt (fct_release_risk_scores, the QA queue ...)."""
    path = tmp_path_factory.mktemp("bi_wh") / "patchrisk.duckdb"
    shutil.copy(default_warehouse, path)
    outcome = score_warehouse(path, Registry(REPO_ROOT / "models_artifacts"))
    assert outcome.rows > 0
    rebuilt = run_dbt(
        "run", BuildConfig(raw_dir=REPO_ROOT / "seeds", duckdb_path=path, select="source:ml+")
    )
    assert rebuilt.success, rebuilt.log[-3000:]
    return path


@pytest.fixture(scope="session")
def semantic_project(scored_warehouse: Path, tmp_path_factory) -> Path:
    """A copy of dbt_project/ whose target/semantic_manifest.json `dbt parse` wrote (mf reads
    it from <project>/target, so the repo's own target/ stays untouched)."""
    project = tmp_path_factory.mktemp("semantic") / "dbt_project"
    shutil.copytree(
        PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    result = subprocess.run(
        [str(BIN / "dbt"), "--no-use-colors", "parse", "--project-dir", str(project)],
        cwd=project,
        env=bi_env(scored_warehouse, project),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "WARN" not in result.stdout, result.stdout[-3000:]
    assert (project / "target" / "semantic_manifest.json").is_file()
    return project
