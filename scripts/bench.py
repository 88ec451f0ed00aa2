"""`make bench`: wall time and peak memory of the pipeline steps, as a table.

Each step runs as its own process, several times; the table reports the median wall
time and the largest peak resident memory (from os.wait4, so it covers that process
alone). Per world (the default world, 10M events, and with --with-100m 100M events):

- `patchrisk generate`, `dbt build` (fresh warehouse), `patchrisk train`, `patchrisk score`
  and the gate (`scripts/risk_gate.py` on 1,000 candidates, see scripts/bench_gate.py);
- the floor: one hand-written DuckDB query computing the core of fct_release_outcomes
  straight from the raw files (FLOOR_SQL), and `dbt build` time over it as a ratio;
- on the 10M world, a one-day increment: the warehouse built on the world without its
  last day, then `dbt build` / `dbt run` with the last day appended, beside the same
  command on a fresh warehouse (the full build) and on the same data again (no new day:
  the fixed cost of an incremental run);
- the scaling exponent log(time ratio) / log(events ratio) between consecutive sizes.

Writes bench_results/bench.md and bench_results/bench.json.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench_results"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench_gate import write_candidates, write_results  # noqa: E402

# The core of fct_release_outcomes from the raw files, by hand: per release, device-days
# and accepted error events in its observation window (days 0..13 after release_date) and
# errors per 10k device-days. Accepted = the screening rules of the dbt project: exposure
# rows of known releases with >= 1 active device; events with an id (first copy only), a
# parseable time, a known device and release, not before the device's manufacture and not
# after the as-of date (the last day with exposure).
FLOOR_SQL = """
with
releases as (
    select release_id, cast(release_date as date) as release_date from {firmware_releases}
),
exposure as (
    select release_id, cast(activity_date as date) as activity_date,
        cast(active_devices as bigint) as active_devices
    from {daily_active_devices}
    where cast(active_devices as bigint) >= 1 and release_id in (select release_id from releases)
),
as_of as (select max(activity_date) as as_of_date from exposure),
devices as (
    select device_id, cast(manufacture_date as date) as manufacture_date from {devices}
),
events as (
    select event_id, device_id, release_id, cast(occurred_at as timestamp) as occurred_at
    from {error_events}
    qualify row_number() over (
        partition by event_id order by occurred_at, device_id, release_id, error_code
    ) = 1
),
window_exposure as (
    select exposure.release_id, sum(active_devices) as device_days
    from exposure join releases using (release_id)
    where activity_date between release_date and release_date + 13
    group by exposure.release_id
),
window_errors as (
    select events.release_id, count(*) as error_count
    from events
    join releases using (release_id)
    join devices using (device_id)
    cross join as_of
    where event_id is not null
        and cast(occurred_at as date) between release_date and release_date + 13
        and cast(occurred_at as date) >= manufacture_date
        and cast(occurred_at as date) <= as_of_date
    group by events.release_id
)
select releases.release_id,
    coalesce(device_days, 0) as window_device_days,
    coalesce(error_count, 0) as window_error_count,
    10000.0 * error_count / nullif(device_days, 0) as post_release_errors_per_10k_device_days
from releases
left join window_exposure using (release_id)
left join window_errors using (release_id)
"""
FLOOR_TABLES = ("firmware_releases", "daily_active_devices", "devices", "error_events")
FLOOR_SCRIPT = """
import os, sys, duckdb
# the memory limit dbt's DuckDB runs with (profiles.yml), so both spill alike
limit = os.environ.get("PATCHRISK_DUCKDB_MEMORY_LIMIT", "8GB")
con = duckdb.connect(config={"memory_limit": limit})
rows = con.execute(sys.argv[1]).fetchall()
assert rows, "floor query returned no release"
"""
TRAIN_TARGET_SECONDS = 60  # `patchrisk train` on the default world, process start included
DATE_COLUMNS = {  # raw table: the column that dates its rows (for the one-day split)
    "daily_active_devices": "activity_date",
    "error_events": "occurred_at",
    "support_tickets": "opened_at",
    "firmware_releases": "release_date",
}


@dataclass
class Row:
    step: str
    world: str
    runs: int
    median_s: float
    min_s: float
    peak_rss_mb: float


@dataclass(frozen=True)
class World:
    name: str
    events: int
    fmt: str
    runs: int
    devices: int | None = None


def measure(cmd: list[str], env: dict[str, str], before=None) -> tuple[float, float]:
    """Run one command; return (wall seconds, peak RSS in MB). Fails loudly on error."""
    if before:
        before()
    # stderr to a file: a pipe nobody drains would stall a command that says a lot there
    # (patchrisk build prints a progress line per dbt node)
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        allowed = (0, 1) if "risk_gate" in " ".join(cmd) else (0,)  # 1 = a patch is blocked
        if os.waitstatus_to_exitcode(status) not in allowed:
            err.seek(0)
            sys.exit(f"bench: {' '.join(cmd)} failed: {err.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def bench(
    step: str,
    world: str,
    cmd: list[str],
    env: dict[str, str],
    runs: int,
    before: Callable[[], None] | None = None,
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
        f"{step:<24} {world:<8} median {row.median_s:>8.2f}s  peak {row.peak_rss_mb:>7.0f} MB",
        flush=True,
    )
    return row


def raw_reader(raw: Path, fmt: str, table: str) -> str:
    if fmt == "parquet":
        return f"read_parquet('{raw / f'{table}.parquet'}')"
    return f"read_csv('{raw / f'{table}.csv'}', header = true, all_varchar = true)"


def split_last_day(raw: Path, target: Path) -> None:
    """Copy a Parquet world without its last day (the rows each DATE_COLUMNS column dates)."""
    import duckdb

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(raw, target)
    with duckdb.connect() as con:
        last_day = con.execute(
            "select max(cast(activity_date as date)) from "
            + raw_reader(raw, "parquet", "daily_active_devices")
        ).fetchall()[0][0]
        for table, column in DATE_COLUMNS.items():
            con.execute(
                f"copy (select * from {raw_reader(raw, 'parquet', table)} "
                f"where cast({column} as date) < date '{last_day}') "
                f"to '{target / f'{table}.parquet'}' (format parquet)"
            )
    print(f"split: {target.name} = {raw.name} up to {last_day - timedelta(days=1)}", flush=True)


def world_rows(world: World) -> list[Row]:
    """Generate a world, build the warehouse on it, train, score, gate, floor, increment."""
    name, fmt, runs = world.name, world.fmt, world.runs
    raw = ROOT / "seeds" if name == "default" else OUT / f"world_{name}"
    db = OUT / f"{name}.duckdb"
    registry = OUT / f"registry_{name}"
    env = {
        **os.environ,
        "PATCHRISK_RAW_DIR": str(raw),
        "PATCHRISK_RAW_FORMAT": fmt,
        "PATCHRISK_DUCKDB_PATH": str(db),
        "PATCHRISK_REGISTRY_DIR": str(registry),
        "DBT_PROFILES_DIR": str(ROOT),
    }
    gen_out = OUT / f"gen_{name}" if name == "default" else raw
    generate = [str(BIN / "patchrisk"), "generate", "--events", str(world.events)]
    if world.devices:
        generate += ["--devices", str(world.devices)]
    generate += ["--format", fmt, "--out", str(gen_out)]
    dbt = [str(BIN / "dbt"), "--no-use-colors"]
    project = ["--project-dir", "dbt_project"]

    def remove_db(path: Path) -> Callable[[], None]:
        def remove() -> None:
            for p in path.parent.glob(f"{path.name}*"):
                p.unlink()

        return remove

    rows = [bench("generate", name, generate, env, runs)]
    measure([*dbt, "parse", *project], env)  # a new world's env: re-parse outside the timings
    rows.append(bench("dbt build", name, [*dbt, "build", *project], env, runs, remove_db(db)))
    floor_sql = FLOOR_SQL.format(**{t: raw_reader(raw, fmt, t) for t in FLOOR_TABLES})
    rows.append(
        bench("floor query", name, [sys.executable, "-c", FLOOR_SCRIPT, floor_sql], env, runs)
    )
    train = [str(BIN / "patchrisk"), "train", "--warehouse", str(db), "--raw-dir", str(raw)]
    rows.append(bench("train", name, [*train, "--promote", "--json"], env, runs))
    score = [str(BIN / "patchrisk"), "score", "--warehouse", str(db), "--json"]
    rows.append(bench("score", name, score, env, runs))
    candidates = write_candidates(db, OUT, [1000], seed=0)[1000]
    gate = [
        sys.executable,
        str(ROOT / "scripts" / "risk_gate.py"),
        str(candidates),
        "--warehouse",
        str(db),
        "--format",
        "json",
    ]
    rows.append(bench("gate (1,000 patches)", name, gate, env, runs))
    if name == "10m":  # the increment target is set on the 10M world
        rows += increment_rows(world, raw, env, dbt, project)
    return rows


def increment_rows(
    world: World, raw: Path, env: dict[str, str], dbt: list[str], project: list[str]
) -> list[Row]:
    """Full build vs one-day increment (the warehouse of the world without its last day,
    restored before each run, then built with the last day appended) vs no new data (the
    up-to-date warehouse built again: dbt's fixed cost of an incremental run)."""
    name, runs = world.name, world.runs
    before_raw = OUT / f"world_{name}_before_last_day"
    # In a child process: a child inherits its parent's peak RSS (Linux keeps the maximum
    # across fork and exec), so DuckDB work in this process would inflate later figures.
    measure([sys.executable, __file__, "--split-last-day", str(raw), str(before_raw)], env)
    base = OUT / f"{name}_before_last_day.duckdb"
    work = OUT / f"{name}_increment.duckdb"
    for p in OUT.glob(f"{base.name}*"):
        p.unlink()
    measure(
        [*dbt, "run", *project],
        {**env, "PATCHRISK_RAW_DIR": str(before_raw), "PATCHRISK_DUCKDB_PATH": str(base)},
    )
    inc_env = {**env, "PATCHRISK_DUCKDB_PATH": str(work)}

    def restore() -> None:
        for p in OUT.glob(f"{work.name}*"):
            p.unlink()
        shutil.copyfile(base, work)

    def fresh() -> None:
        for p in OUT.glob(f"{work.name}*"):
            p.unlink()

    measure([*dbt, "parse", *project], inc_env)  # so no timed run pays for a full re-parse
    rows = []
    for command in ("run", "build"):
        cmd = [*dbt, command, *project]
        rows.append(bench(f"dbt {command}, full", name, cmd, inc_env, runs, fresh))
        rows.append(bench(f"dbt {command}, +1 day", name, cmd, inc_env, runs, restore))
        # again on the warehouse the +1 day run left: nothing new to process
        rows.append(bench(f"dbt {command}, +0 days", name, cmd, inc_env, runs))
    shutil.rmtree(before_raw)
    return rows


def scaling(rows: list[Row], worlds: list[World]) -> list[dict]:
    """log(time ratio) / log(events ratio) per step between consecutive world sizes."""
    by = {(r.step, r.world): r.median_s for r in rows}
    out = []
    for small, large in itertools.pairwise(worlds):
        for step in (
            "generate",
            "dbt build",
            "floor query",
            "train",
            "score",
            "gate (1,000 patches)",
        ):
            a, b = by.get((step, small.name)), by.get((step, large.name))
            if a and b:
                out.append(
                    {
                        "step": step,
                        "from": small.name,
                        "to": large.name,
                        "exponent": round(
                            math.log(b / a) / math.log(large.events / small.events), 2
                        ),
                    }
                )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions per step")
    parser.add_argument("--runs-10m", type=int, default=None, help="for 10M [default: --runs]")
    parser.add_argument("--with-100m", action="store_true", help="also 100M events (one run)")
    parser.add_argument("--skip-default", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--split-last-day", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.split_last_day:
        split_last_day(*args.split_last_day)
        return
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    worlds = [
        World("default", 300_000, "csv", args.runs),
        World("10m", 10_000_000, "parquet", args.runs_10m or args.runs),
    ]
    if args.with_100m:
        worlds.append(World("100m", 100_000_000, "parquet", 1, devices=600_000))
    if args.skip_default:
        worlds = worlds[1:]
    rows = [row for world in worlds for row in world_rows(world)]
    by = {(r.step, r.world): r.median_s for r in rows}
    summary = {
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "dbt_build_over_floor": {
            w.name: round(by[("dbt build", w.name)] / by[("floor query", w.name)], 1)
            for w in worlds
        },
        "increment_over_full": {
            f"{w.name} dbt {c}": round(
                by[(f"dbt {c}, +1 day", w.name)] / by[(f"dbt {c}, full", w.name)], 3
            )
            for w in worlds
            if w.name == "10m"
            for c in ("run", "build")
        },
        "day_cost_over_full": {  # the increment less the fixed cost of a run with no new data
            f"{w.name} dbt {c}": round(
                (by[(f"dbt {c}, +1 day", w.name)] - by[(f"dbt {c}, +0 days", w.name)])
                / by[(f"dbt {c}, full", w.name)],
                3,
            )
            for w in worlds
            if w.name == "10m"
            for c in ("run", "build")
        },
        "scaling_exponents": scaling(rows, worlds),
        "train_default_median_s": by.get(("train", "default")),
        "train_target_s": TRAIN_TARGET_SECONDS,
    }
    write_report(rows, worlds, summary)


def write_report(rows: list[Row], worlds: list[World], summary: dict) -> None:
    lines = [
        f"# make bench ({summary['cpu_count']} cores, load average {summary['load_average_1m']} "
        "at the end: figures measured on a shared, loaded machine)",
        "",
        "Worlds: "
        + ", ".join(
            f"{w.name} = {w.events:,} events ({w.fmt}, {w.runs} run{'s' if w.runs > 1 else ''})"
            for w in worlds
        ),
        "",
        "| step | world | runs | median s | min s | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|",
        *(
            f"| {r.step} | {r.world} | {r.runs} | {r.median_s} | {r.min_s} | {r.peak_rss_mb} |"
            for r in rows
        ),
        "",
        "`dbt build` over the floor (one hand-written DuckDB query for the release-outcome "
        "core, scripts/bench.py FLOOR_SQL): "
        + ", ".join(f"{k} **{v}x**" for k, v in summary["dbt_build_over_floor"].items()),
        "",
        "One-day increment over the full build: "
        + ", ".join(f"{k} **{v:.1%}**" for k, v in summary["increment_over_full"].items()),
        "",
        "The day's own cost (+1 day less +0 days, a run with no new data) over the full build: "
        + ", ".join(f"{k} **{v:.1%}**" for k, v in summary["day_cost_over_full"].items()),
        "",
        *train_target_lines(summary),
        "| scaling exponent | from | to | exponent |",
        "|---|---|---|---:|",
        *(
            f"| {s['step']} | {s['from']} | {s['to']} | {s['exponent']} |"
            for s in summary["scaling_exponents"]
        ),
        "",
    ]
    write_results("bench", lines, rows, summary)


def train_target_lines(summary: dict) -> list[str]:
    """The training-time target on the default world (when it was benched)."""
    median, target = summary["train_default_median_s"], summary["train_target_s"]
    if median is None:
        return []
    verdict = "met" if median <= target else "MISSED"
    line = f"`patchrisk train` on the default world: median {median} s (target <= {target} s: "
    return [f"{line}**{verdict}**)", ""]


if __name__ == "__main__":
    main()
