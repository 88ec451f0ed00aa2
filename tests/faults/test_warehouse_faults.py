"""SIGKILL `patchrisk build`, `score` and `export` at many points: every failpoint of the
copy / checkpoint / rename windows and random times (dbt included), one after another on
the same warehouse or export. After each kill: the published warehouse opens read-only
and holds the old or the new state, never a mix; a BI reader connected throughout keeps
its snapshot; the export is the old or the new set of files; no user file is removed.
After the last kill the next run succeeds and leaves no working file behind."""

from __future__ import annotations

import hashlib
import math
import random
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from ml.warehouse.dbt import COPY_CHUNK_BYTES
from tests.dbt.test_readers_and_writers import CHANGING_BUILD, BIReader, fingerprint, leftovers
from tests.faults.conftest import PATCHRISK, REPO_ROOT, Outcome, run_patchrisk

USER_FILE = "notes.txt"  # a user's file beside the warehouse or the export


@dataclass(frozen=True)
class Kill:
    """Where a run dies: at failpoint `at` (`NAME` or `NAME@N`), after `seconds` (its whole
    process group), or, `parent_during_dbt`, the patchrisk process alone while dbt runs."""

    at: str | None = None
    seconds: float | None = None
    parent_during_dbt: bool = False

    def run(self, args: list[str]) -> Outcome:
        if self.parent_during_dbt:
            return kill_parent_during_dbt(args)
        return run_patchrisk(args, kill_at=self.at, kill_after=self.seconds)

    @property
    def certain(self) -> bool:
        """Whether the run must have been killed (a random time may come after its end)."""
        return self.seconds is None


def copy_kills(warehouse: Path, every_chunk: bool) -> list[Kill]:
    """Kills at each failpoint from the writer lock to the end of the warehouse copy: at
    every chunk copied, or at the first, middle and last one."""
    chunks = math.ceil(warehouse.stat().st_size / COPY_CHUNK_BYTES)
    numbers = range(1, chunks + 1) if every_chunk else sorted({1, (chunks + 1) // 2, chunks})
    return [
        Kill("warehouse.locked"),
        *(Kill(f"warehouse.copy_chunk@{n}") for n in numbers),
        Kill("warehouse.working_copied"),
    ]


@dataclass
class Chain:
    """Runs of one command on one warehouse or export, each killed, checked after each."""

    args: list[str]
    observe: Callable[[], object]  # the state a new reader sees (raises when unreadable)
    check: Callable[[], None]  # what must hold after every kill
    killed: int = 0
    seen: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.seen.append(self.observe())

    def kill(self, kills: list[Kill]) -> float:
        """Run once per kill; returns the seconds the last run lasted."""
        for kill in kills:
            started = time.monotonic()
            outcome = kill.run(self.args)
            elapsed = time.monotonic() - started
            # a certain kill also shows that the previous kill's leftovers blocked nothing
            assert outcome.killed or (not kill.certain and outcome.returncode == 0), (
                kill,
                outcome.returncode,
                outcome.stderr[-3000:],
            )
            self.killed += outcome.killed
            self.check()
            self.seen.append(self.observe())
        return elapsed

    def kill_at_random_times(self, seconds: float, n: int, seed: int) -> None:
        """Kill runs at random times within `seconds` (their group) until `n` were killed:
        a run that ends first counts as a run, not a kill (at most 3 n runs)."""
        rng = random.Random(seed)
        wanted = self.killed + n
        for _ in range(3 * n):
            if self.killed == wanted:
                return
            self.kill([Kill(seconds=round(rng.uniform(0.05, 1.0) * seconds, 2))])
        assert self.killed == wanted, "the runs kept ending before their random time"

    def finish(self) -> object:
        """The next run succeeds; every state seen was the first or this final one."""
        outcome = run_patchrisk(self.args)
        assert outcome.returncode == 0, outcome.stderr[-3000:]
        self.check()
        final = self.observe()
        assert final != self.seen[0]
        assert [s for s in self.seen if s not in (self.seen[0], final)] == []
        return final


def warehouse_state(path: Path, volatile: tuple[str, ...] = ()) -> dict[str, list]:
    """What a new reader sees: every table's rows and hash (rows only for `volatile`)."""
    with duckdb.connect(str(path), read_only=True) as con:
        state = fingerprint(con)
    return {name: value[:1] if name in volatile else value for name, value in state.items()}


def warehouse_copy(default_warehouse: Path, folder: Path) -> Path:
    """A copy of the default world's warehouse in `folder`, with a user's file beside it."""
    folder.mkdir()
    path = folder / "patchrisk.duckdb"
    shutil.copy(default_warehouse, path)
    (folder / USER_FILE).write_text("mine")
    return path


def check_warehouse_dir(warehouse: Path) -> Callable[[], None]:
    def check() -> None:
        assert (warehouse.parent / USER_FILE).read_text() == "mine"
        assert not warehouse.with_name(warehouse.name + ".wal").exists()

    return check


def live_group_members(pgid: int) -> list[int]:
    """Processes of group `pgid` that are alive (zombies excluded)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError):
            continue
        if int(group) == pgid and state != "Z":
            pids.append(int(stat.parent.name))
    return pids


def kill_parent_during_dbt(args: list[str]) -> Outcome:
    """SIGKILL the patchrisk process alone while its dbt child runs; the child must die
    with it (no orphan keeps writing)."""
    proc = subprocess.Popen(
        [*PATCHRISK, *args],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while set(live_group_members(proc.pid)) <= {proc.pid}:
        assert proc.poll() is None and time.monotonic() < deadline, "dbt never started"
        time.sleep(0.05)
    time.sleep(1.0)  # dbt is parsing or building
    proc.kill()
    _, stderr = proc.communicate()
    deadline = time.monotonic() + 10
    while live_group_members(proc.pid) and time.monotonic() < deadline:  # being reaped
        time.sleep(0.05)
    assert live_group_members(proc.pid) == [], "dbt outlived its patchrisk process"
    return Outcome(proc.returncode, stderr.decode())


def kill_build(warehouse: Path) -> int:
    """Kills before dbt (lock, every chunk of the copy) cost little; after it (the
    checkpoint and rename windows) a dbt run each; some random times land in dbt."""
    with BIReader(warehouse) as reader:
        chain = Chain(
            ["build", "--warehouse", str(warehouse), *CHANGING_BUILD],
            lambda: warehouse_state(warehouse),
            check_warehouse_dir(warehouse),
        )
        chain.kill(copy_kills(warehouse, every_chunk=True))
        seconds = chain.kill([Kill("warehouse.written")])  # dbt has just finished
        chain.kill([Kill("warehouse.checkpointed")])
        chain.kill_at_random_times(seconds, 3, seed=1)
        chain.kill([Kill(parent_during_dbt=True), Kill("warehouse.renamed")])
        final = chain.finish()
        assert reader.snapshot() == reader.opened
    assert final["marts.fct_stability_curves"] != chain.seen[0]["marts.fct_stability_curves"]
    assert leftovers(warehouse) == [USER_FILE]
    return chain.killed


def kill_score(warehouse: Path) -> int:
    """Each run scores before it writes, so every kill costs a run: the first, middle and
    last chunk of the copy, and random times."""
    volatile = ("ml.release_risk_scores",)  # its rows carry the time of scoring
    with BIReader(warehouse) as reader:
        chain = Chain(
            ["score", "--warehouse", str(warehouse)],
            lambda: warehouse_state(warehouse, volatile),
            check_warehouse_dir(warehouse),
        )
        chain.kill(copy_kills(warehouse, every_chunk=False))
        seconds = chain.kill(  # the last run nearly completes
            [
                Kill("warehouse.ml_table_written@1"),
                Kill("warehouse.ml_table_written@2"),
                Kill("warehouse.written"),
                Kill("warehouse.checkpointed"),
            ]
        )
        chain.kill_at_random_times(seconds, 10, seed=2)
        chain.kill([Kill("warehouse.renamed")])
        final = chain.finish()
        assert reader.snapshot() == reader.opened
    assert chain.seen[0]["ml.release_risk_scores"] == [0]
    assert final["ml.release_risk_scores"] == [2000]
    assert leftovers(warehouse) == [USER_FILE]
    return chain.killed


def exported_files(out: Path) -> dict[str, str]:
    """The Parquet files a reader of `out` sees, with their SHA-256."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.glob("*.parquet")}


def kill_export(warehouse: Path) -> int:
    """The old export comes from a warehouse with fewer rows in one mart; a user's file
    lies beside it and one inside it."""
    exports = warehouse.parent / "exports"
    exports.mkdir()
    (exports / USER_FILE).write_text("mine")
    out = exports / "marts"
    older = warehouse.parent / "older.duckdb"
    shutil.copy(warehouse, older)
    with duckdb.connect(str(older)) as con:
        con.execute("delete from marts.fct_error_spikes where rowid % 2 = 0")
    assert run_patchrisk(["export", "--warehouse", str(older), "--out", str(out)]).returncode == 0
    first_folder = out.resolve()
    (out / "my_query.sql").write_text("mine")

    def check() -> None:
        assert (exports / USER_FILE).read_text() == "mine"
        assert (first_folder / "my_query.sql").read_text() == "mine"

    marts = len(exported_files(out))
    some = sorted({1, marts // 2, marts})
    args = ["export", "--warehouse", str(warehouse), "--out", str(out)]
    chain = Chain(args, lambda: exported_files(out), check)
    seconds = chain.kill(
        [*(Kill(f"export.mart_written@{n}") for n in some), Kill("export.folder_written")]
    )
    chain.kill(
        [
            Kill("export.linked"),
            *(Kill(f"export.old_file_removed@{n}") for n in some),
            Kill("export.previous_removed"),
        ]
    )
    chain.kill_at_random_times(seconds, 11, seed=3)
    final = chain.finish()
    assert len(final) == marts
    assert sorted(p.name for p in exports.iterdir()) == sorted(
        [USER_FILE, "marts", out.resolve().name, first_folder.name, ".marts.export.lock"]
    )
    assert sorted(p.name for p in first_folder.iterdir()) == ["my_query.sql"]
    return chain.killed


def test_kills_of_build_score_and_export_leave_the_old_or_the_new_state(
    default_warehouse: Path, tmp_path: Path
) -> None:
    """The three commands are killed side by side, each on its own copy (quicker on two
    cores than one after the other)."""
    chains = {"build": kill_build, "score": kill_score, "export": kill_export}
    with ThreadPoolExecutor(len(chains)) as pool:
        futures = {
            name: pool.submit(kill, warehouse_copy(default_warehouse, tmp_path / name))
            for name, kill in chains.items()
        }
        killed = {name: future.result() for name, future in futures.items()}
    print(f"kills per command: {killed}")
    assert min(killed.values()) >= 20, killed


@pytest.mark.slow
def test_full_build_killed_at_random_times(default_warehouse: Path, tmp_path: Path) -> None:
    """A whole `patchrisk build` (every model and test) killed at random times."""
    warehouse = warehouse_copy(default_warehouse, tmp_path / "full")
    with BIReader(warehouse) as reader:
        chain = Chain(
            ["build", "--warehouse", str(warehouse), "--var", "stability_curve_days=20"],
            lambda: warehouse_state(warehouse),
            check_warehouse_dir(warehouse),
        )
        seconds = chain.kill([Kill("warehouse.written")])
        chain.kill_at_random_times(seconds, 12, seed=4)
        chain.kill([Kill(parent_during_dbt=True)])
        chain.finish()
        assert reader.snapshot() == reader.opened
    assert leftovers(warehouse) == [USER_FILE]
