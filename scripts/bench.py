"""`make bench`: wall time and peak memory of the pipeline steps, as a table.

Each step runs as its own process, several times; the table reports the median wall
time and the largest peak resident memory (from os.wait4, so it covers that process
alone). Writes bench_results/bench.md and bench_results/bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench_results"
BIN = Path(sys.executable).parent


@dataclass
class Row:
    step: str
    world: str
    runs: int
    median_s: float
    min_s: float
    peak_rss_mb: float


def measure(cmd: list[str], env: dict[str, str], before=None) -> tuple[float, float]:
    """Run one command; return (wall seconds, peak RSS in MB). Fails loudly on error."""
    if before:
        before()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def bench(
    step: str, world: str, cmd: list[str], env: dict[str, str], runs: int, before=None
) -> Row:
    results = [measure(cmd, env, before) for _ in range(runs)]
    times = [t for t, _ in results]
    row = Row(
        step,
        world,
        runs,
        round(statistics.median(times), 2),
        round(min(times), 2),
        round(max(m for _, m in results), 1),
    )
    print(
        f"{step:<14} {world:<14} median {row.median_s:>7.2f}s  peak {row.peak_rss_mb:>7.0f} MB",
        flush=True,
    )
    return row


def world_rows(name: str, events: int, fmt: str, runs: int) -> list[Row]:
    """Generate a world, then build the warehouse on it."""
    raw = ROOT / "seeds" if name == "default" else OUT / f"world_{name}"
    db = OUT / f"{name}.duckdb"
    env = {
        **os.environ,
        "PATCHRISK_RAW_DIR": str(raw),
        "PATCHRISK_RAW_FORMAT": fmt,
        "PATCHRISK_DUCKDB_PATH": str(db),
        "DBT_PROFILES_DIR": str(ROOT),
    }
    gen_out = OUT / f"gen_{name}" if name == "default" else raw
    generate = [
        str(BIN / "patchrisk"),
        "generate",
        "--events",
        str(events),
        "--format",
        fmt,
        "--out",
        str(gen_out),
    ]
    build = [str(BIN / "dbt"), "--no-use-colors", "build", "--project-dir", "dbt_project"]

    def fresh_db() -> None:
        for p in OUT.glob(f"{name}.duckdb*"):
            p.unlink()

    rows = [bench("generate", name, generate, env, runs)]
    rows.append(bench("dbt build", name, build, env, runs, before=fresh_db))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="repetitions per step")
    parser.add_argument("--with-100m", action="store_true", help="also 100M events (minutes)")
    args = parser.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    worlds = [("default", 150_000, "csv"), ("10m", 10_000_000, "parquet")]
    if args.with_100m:
        worlds.append(("100m", 100_000_000, "parquet"))
    rows = [row for name, events, fmt in worlds for row in world_rows(name, events, fmt, args.runs)]

    header = "| step | world | runs | median s | min s | peak RSS MB |\n|---|---|---|---|---|---|\n"
    lines = "".join(
        f"| {r.step} | {r.world} | {r.runs} | {r.median_s} | {r.min_s} | {r.peak_rss_mb} |\n"
        for r in rows
    )
    (OUT / "bench.md").write_text(f"# make bench ({os.cpu_count()} cores)\n\n{header}{lines}")
    (OUT / "bench.json").write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    print(f"\nwrote {OUT / 'bench.md'} and {OUT / 'bench.json'}")


if __name__ == "__main__":
    main()
