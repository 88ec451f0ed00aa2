"""`patchrisk generate` killed (SIGKILL) while staging or moving its files: the folder keeps
the last complete world until the move begins, a world.json is only ever beside a complete
set, and the next run clears the stale `.partial/` and writes the world it was asked for."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from ml.generate import WorldConfig
from ml.generate.world import generate_world
from tests.faults.conftest import run_patchrisk

TINY = WorldConfig(
    seed=2,
    n_releases=40,
    n_devices=800,
    n_events=5000,
    start_date=date(2025, 1, 1),
    end_date=date(2025, 6, 30),
)
ARGS = [
    "generate",
    "--seed",
    str(TINY.seed),
    "--releases",
    str(TINY.n_releases),
    "--devices",
    str(TINY.n_devices),
    "--events",
    str(TINY.n_events),
    "--start-date",
    TINY.start_date.isoformat(),
    "--end-date",
    TINY.end_date.isoformat(),
]
# While staging: the first table, and an event chunk; while moving: the first file, a
# middle one, and world.json (last). 8 files are moved (7 tables, then world.json).
KILL_POINTS = (
    "generate.write@1",
    "generate.write@8",
    "generate.commit@1",
    "generate.commit@4",
    "generate.commit@8",
)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_killed_generate_never_leaves_a_half_world(tmp_path: Path) -> None:
    out = tmp_path / "world"
    generate_world(replace(TINY, seed=1), out)
    old = _files(out)
    generate_world(TINY, tmp_path / "reference")
    new = _files(tmp_path / "reference")
    for point in KILL_POINTS:
        outcome = run_patchrisk([*ARGS, "--out", str(out)], kill_at=point)
        assert outcome.killed, (point, outcome.stderr)
        assert (out / ".partial").is_dir(), point
        left = {k: v for k, v in _files(out).items() if not k.startswith(".partial/")}
        if point.startswith("generate.write"):
            assert left == old, f"{point}: the old world changed before the move"
        else:
            assert "world.json" not in left, f"{point}: world.json beside a half-moved set"
    outcome = run_patchrisk([*ARGS, "--out", str(out)])
    assert outcome.returncode == 0, outcome.stderr
    assert _files(out) == new
