"""Gate fixtures: the ML tests' generated small world, its warehouse and a registry trained
on it (generated data, never mocks), plus helpers to write candidate files and run the
gate in-process."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from ml.cli import main
from ml.gate.candidates import INPUT_COLUMNS


@dataclass(frozen=True)
class GateWorld:
    """A built warehouse with a champion, and what a valid new patch needs to know."""

    warehouse: Path
    registry: Path
    as_of: date
    latest_release: dict[str, date]
    raw_dir: Path

    @property
    def platforms(self) -> list[str]:
        return sorted(self.latest_release)

    def patch(self, n: int = 0, **overrides) -> dict:
        """A valid candidate (a new version, planned after the data) with overrides."""
        platform = overrides.pop("platform_id", self.platforms[n % len(self.platforms)])
        row = {
            "version": f"99.{n}.0",
            "platform_id": platform,
            "patch_type": "bugfix",
            "files_changed": 12,
            "lines_added": 300,
            "lines_deleted": 120,
            "components_touched": "ui|network",
            "package_size_kb": 2048,
            "test_files_changed": 4,
            "planned_release_date": (self.as_of + timedelta(days=3)).isoformat(),
        }
        row.update(overrides)
        return row

    def args(self, *extra: str) -> list[str]:
        return [
            "gate",
            "--warehouse",
            str(self.warehouse),
            "--registry",
            str(self.registry),
            *extra,
        ]


@pytest.fixture(scope="session")
def gate_world(ml_warehouse: Path, trained_registry: Path, ml_world: Path) -> GateWorld:
    with duckdb.connect(str(ml_warehouse), read_only=True) as con:
        as_of = con.execute(
            "select min(context_date) - 1 from marts.fct_platform_daily_context "
            "where is_after_as_of_date"
        ).fetchall()[0][0]
        latest = dict(
            con.execute(
                "select platform_id, max(release_date) from marts.dim_firmware_releases group by 1"
            ).fetchall()
        )
    return GateWorld(ml_warehouse, trained_registry, as_of, latest, ml_world)


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    columns = columns or list(INPUT_COLUMNS)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_json(path: Path, rows: list) -> Path:
    path.write_text(json.dumps(rows))
    return path


def run(args: list[str], stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, args, input=stdin, catch_exceptions=False)


def assert_one_line_error(result: Result, code: int, *texts: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.stdout == "", "no report on an error"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for text in texts:
        assert text in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


REPO_ROOT_FOR_TESTS = Path(__file__).resolve().parents[2]


class FirmwareRepo:
    """A temporary firmware git repository built commit by commit (real git, fixed dates)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._clock = 0
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        self._clock += 1
        stamp = f"2026-01-01T00:00:{self._clock % 60:02d}+00:00"
        env = {
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
            "PATH": os.environ["PATH"],
        }
        done = subprocess.run(
            ["git", "-C", str(self.root), *args], capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout.strip()

    def write(self, path: str, content: str | bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)

    def commit(self, message: str, **files: str | bytes) -> str:
        """Write files (keyword = path with '/' spelled '__') and commit everything."""
        for key, content in files.items():
            self.write(key.replace("__", "/"), content)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


def lines(n: int, prefix: str = "line") -> str:
    return "".join(f"{prefix} {i}\n" for i in range(n))
