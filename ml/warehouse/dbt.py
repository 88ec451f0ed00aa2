"""Build the DuckDB warehouse with dbt, publish it atomically, and read its results.

dbt runs in a subprocess (one process per build: dbt-duckdb keeps per-process state) from the
repo root, with `profiles.yml` there and the project in `dbt_project/`. Where the raw tables
live and which DuckDB file to write are passed through the environment variables the dbt
project reads (PATCHRISK_RAW_DIR, PATCHRISK_RAW_FORMAT, PATCHRISK_DUCKDB_PATH). dbt keeps
its artifacts in `dbt_project/target/patchrisk/` (compiled SQL, run_results.json, the
partial-parse state; one patchrisk dbt at a time per checkout: a lock) and appends its log
to `dbt_project/logs/dbt.log`, so a failed build can be debugged. dbt by hand uses
`dbt_project/target/`: its profile names another DuckDB path, so each keeps its own
partial-parse state. The child logs JSON lines; `run_dbt` turns each finished node into a
`NodeProgress` for a caller's progress display.

Readers and writers. DuckDB lets one process write a file or many processes read it, never
both. So no patchrisk command writes the published file (PATCHRISK_DUCKDB_PATH) in place:
every writer (`patchrisk build`, `score`, `drift`, `pipeline`, `canary --evaluate`, `docs`:
`run_dbt` and `write_ml_tables`) goes through `publishing`, which

1. takes the writer lock `.<name>.lock` beside the file (`ml.warehouse.filesystem`: a second writer
   waits, saying so on stderr, up to $PATCHRISK_LOCK_WAIT_SECONDS, default one hour, then
   exits 3), and removes working files a killed writer left;
2. copies the published file to a private working file `.<name>.work` beside it (one name,
   so that dbt's profile, and with it its partial-parse state, is the same every run);
3. lets the writer (the dbt child or a DuckDB connection) write the working file;
4. checkpoints it (no `.wal` left), fsyncs it and renames it over the published file.

A failure or a kill at any point leaves the published file as it was (the working file is
discarded then, or by the next writer). Readers (the gate, monitor, canary, report,
export, BI tools) open the published file read-only: a reader that is open during a
publish keeps reading the old file (its inode) until it reconnects, new readers see the
new one. Incremental models always start from the last published, complete warehouse;
the price is one copy of the file per write (about disk speed: see the README). The dbt
child (ml.warehouse.dbt_child) gets SIGKILL when its parent dies (Linux `PR_SET_PDEATHSIG`), so a
killed `patchrisk build` leaves no orphan writing. `dbt build` run by hand still writes the file in
place and needs every reader disconnected.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd

from ml.errors import EnvironmentFailure
from ml.failpoints import failpoint
from ml.warehouse.filesystem import exclusive_lock, fsync_path

REPO_ROOT = Path(__file__).resolve().parents[2]
# dbt in this interpreter, as run by hand: in place, no publishing (tests/gate runs it so)
DBT_MAIN = "import sys; from dbt.cli.main import cli; sys.exit(cli())"
PROJECT_DIR = REPO_ROOT / "dbt_project"
TARGET_DIR = PROJECT_DIR / "target" / "patchrisk"  # dbt's artifacts from patchrisk runs
LOG_DIR = PROJECT_DIR / "logs"


def default_duckdb_path() -> Path:
    """PATCHRISK_DUCKDB_PATH, else warehouse/patchrisk.duckdb under the repo root."""
    return Path(
        os.environ.get("PATCHRISK_DUCKDB_PATH", REPO_ROOT / "warehouse" / "patchrisk.duckdb")
    )


def default_raw_dir() -> Path:
    """PATCHRISK_RAW_DIR, else the embedded default world in seeds/."""
    return Path(os.environ.get("PATCHRISK_RAW_DIR", REPO_ROOT / "seeds"))


RawFormat = Literal["csv", "parquet"]
DbtCommand = Literal["build", "run", "test", "compile", "docs generate", "source freshness"]
# Commands that only read the warehouse: dbt-duckdb still opens the file for writing, so
# they run on a working copy that is then discarded (the published file stays as it was).
READING_COMMANDS = ("compile", "docs generate")
# Commands that read only the raw files: they run on an empty working file (the same path,
# so the same profile and partial-parse state, as a build's), discarded after: no copy.
RAW_ONLY_COMMANDS = ("source freshness",)


@dataclass(frozen=True)
class NodeResult:
    """One dbt node's outcome, from run_results.json."""

    name: str
    resource_type: str
    status: str  # success | error | skipped | pass | fail | warn | ...
    failures: int | None
    message: str | None
    # `source freshness` only: days the source's newest day lies behind the as-of date
    days_behind: float | None = None


@dataclass(frozen=True)
class NodeProgress:
    """A node dbt just finished (from its JSON log): the `index`-th of `total`."""

    index: int
    total: int
    name: str
    status: str  # as dbt logs it, lower case: ok | pass | warn | fail | error | skip ...
    seconds: float | None


# dbt's JSON log events that report one finished node (hooks are left out), with the
# status of those that carry none
NODE_RESULT_EVENTS = {
    "LogModelResult": "",
    "LogTestResult": "",
    "LogSeedResult": "",
    "LogSnapshotResult": "",
    "LogFunctionResult": "",
    "LogFreshnessResult": "",
    "LogNodeNoOpResult": "no-op",
    "SkippingDetails": "skip",
}


def node_progress(event: dict) -> NodeProgress | None:
    """The finished node a dbt JSON log event reports, else None."""
    name = event.get("info", {}).get("name")
    if name not in NODE_RESULT_EVENTS:
        return None
    data = event.get("data", {})
    return NodeProgress(
        index=int(data.get("index", 0)),
        total=int(data.get("total") or data.get("num_models") or 0),
        name=data.get("name") or (data.get("node_info") or {}).get("node_name", "?"),
        status=str(data.get("status") or NODE_RESULT_EVENTS[name]).lower(),
        seconds=data.get("execution_time"),
    )


@dataclass(frozen=True)
class BuildResult:
    """What a dbt invocation did."""

    success: bool
    returncode: int
    duckdb_path: Path
    elapsed_seconds: float
    nodes: list[NodeResult] = field(default_factory=list)
    log: str = ""

    def summary(self) -> str:
        """Nodes by kind and outcome, e.g. `51 models ok, 254 tests pass, 9 exposures no-op`."""
        counts = Counter(
            (n.resource_type.replace("_", " "), "ok" if n.status == "success" else n.status)
            for n in self.nodes
            if n.resource_type != "operation"  # the on-run-start hooks
        )
        return ", ".join(
            f"{count} {kind}{'s' if count != 1 else ''} {status}"
            for (kind, status), count in counts.items()
        )

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


def dbt_args(command: DbtCommand, config: BuildConfig) -> list[str]:
    """Command-line arguments for `dbt <command>` (without the executable)."""
    args = [
        *command.split(),
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(REPO_ROOT),
        "--target-path",
        str(TARGET_DIR),
        "--log-path",
        str(LOG_DIR),
        "--log-format",
        "json",
        "--log-format-file",
        "text",
        "--no-use-colors",
    ]
    if command == "docs generate":
        args.append("--static")  # also one self-contained page, static_index.html
    if config.dbt_vars:
        args += ["--vars", json.dumps(config.dbt_vars)]
    if config.select:
        args += ["--select", config.select]
    if config.threads:
        args += ["--threads", str(config.threads)]
    if config.target:
        args += ["--target", config.target]
    return args


def _node_name(unique_id: str) -> str:
    """`model.patch_stability.dim_devices` -> dim_devices; a source -> `fleet.devices`."""
    resource_type, _project, *name = unique_id.split(".")
    return ".".join(name) if resource_type == "source" else name[0]


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 86400


def read_run_results(target_path: Path, command: DbtCommand = "build") -> list[NodeResult]:
    """Parse dbt's run_results.json, or sources.json after `source freshness` (empty when
    dbt failed before running anything)."""
    artifact = "sources.json" if command == "source freshness" else "run_results.json"
    path = target_path / artifact
    if not path.exists():
        return []
    results = json.loads(path.read_text())["results"]
    return [
        NodeResult(
            name=_node_name(r["unique_id"]),
            resource_type=r["unique_id"].split(".")[0],
            status=r["status"],
            failures=r.get("failures"),
            message=r.get("message"),
            # freshness's age: the newest day's lag behind the as-of date (fleet_loaded_at)
            days_behind=_days(r.get("max_loaded_at_time_ago_in_s")),
        )
        for r in results
    ]


# ---- publishing ---------------------------------------------------------------------------
@dataclass
class WorkingCopy:
    """The private file a writer writes; published when the block ends, unless discarded."""

    path: Path
    discarded: bool = False

    def discard(self) -> None:
        """Do not publish: the published file stays as it was."""
        self.discarded = True


def _wal(path: Path) -> Path:
    """DuckDB's write-ahead log of `path`."""
    return path.with_name(path.name + ".wal")


def _remove_working_files(published: Path) -> None:
    """Remove every working file (and its WAL) of `published`: call only under the lock."""
    for stale in published.parent.glob(f".{published.name}.work*"):
        stale.unlink(missing_ok=True)


COPY_CHUNK_BYTES = 4 << 20


def _copy_file(source: Path, target: Path) -> None:
    """Copy in the kernel (os.sendfile) by chunks, with a failpoint after each."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        offset = 0
        while sent := os.sendfile(dst.fileno(), src.fileno(), offset, COPY_CHUNK_BYTES):
            offset += sent
            failpoint("warehouse.copy_chunk")


def _copy_published(published: Path, working: Path) -> None:
    """Start the working file from the published one (with the WAL a writer in place left).

    A read-only connection is held during the copy: it fails when a writer outside
    patchrisk (a `dbt build` by hand) has the file, and keeps one from starting meanwhile.
    """
    if published.exists():
        try:
            reader = duckdb.connect(str(published), read_only=True)
        except duckdb.Error as exc:
            raise EnvironmentFailure(
                f"cannot open the warehouse {published}: {str(exc).splitlines()[0]}"
            ) from exc
        with reader:
            _copy_file(published, working)
            if _wal(published).exists():
                _copy_file(_wal(published), _wal(working))
    failpoint("warehouse.working_copied")


def _publish(working: Path, published: Path) -> None:
    """Checkpoint `working` into one self-contained file and rename it over `published`."""
    with duckdb.connect(str(working)) as con:
        con.execute("checkpoint")
    if _wal(working).exists():
        raise EnvironmentFailure(f"{working} kept a write-ahead log after its checkpoint")
    fsync_path(working)
    failpoint("warehouse.checkpointed")
    # A WAL beside the published file is a killed in-place writer's (its content is in the
    # working copy); left there, DuckDB would replay it onto the new file.
    _wal(published).unlink(missing_ok=True)
    os.replace(working, published)
    failpoint("warehouse.renamed")
    fsync_path(published.parent)


@contextmanager
def publishing(duckdb_path: Path, start_from_published: bool = True) -> Iterator[WorkingCopy]:
    """Write the warehouse `duckdb_path` through a working copy, published atomically.

    Under the writer lock: yields a working copy of the published file (or a fresh path
    when there is none yet, or when not `start_from_published`); when the block ends
    without an exception and without `discard()`, the copy replaces the published file by
    one rename. See the module docstring.
    """
    published = Path(duckdb_path).resolve()
    try:
        published.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot create {published.parent}: {exc.strerror}") from exc
    lock = published.with_name(f".{published.name}.lock")
    with exclusive_lock(lock, f"the warehouse {published}"):
        failpoint("warehouse.locked")
        _remove_working_files(published)
        working = WorkingCopy(published.with_name(f".{published.name}.work"))
        try:
            try:
                if start_from_published:
                    _copy_published(published, working.path)
            except OSError as exc:
                raise EnvironmentFailure(f"cannot copy the warehouse {published}: {exc}") from exc
            yield working
            failpoint("warehouse.written")
            if not working.discarded:
                try:
                    _publish(working.path, published)
                except (OSError, duckdb.Error) as exc:
                    raise EnvironmentFailure(
                        f"cannot publish the warehouse {published}: {exc}"
                    ) from exc
        finally:
            _remove_working_files(published)


# ---- dbt --------------------------------------------------------------------------------------
Progress = Callable[[NodeProgress], None]


def _stream_dbt(args: list[str], env: dict[str, str], progress: Progress | None) -> tuple[int, str]:
    """Run the dbt child; report each finished node; return its exit code and its log as
    text (the JSON lines' messages; anything else as printed)."""
    log: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-m", "ml.warehouse.dbt_child", str(os.getpid()), *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                log.append(line.rstrip("\n"))
                continue
            log.append(event.get("info", {}).get("msg", ""))
            node = node_progress(event)
            if node is not None and progress is not None:
                progress(node)
    return proc.returncode, "\n".join(log)


def _dbt_process(
    command: DbtCommand, config: BuildConfig, progress: Progress | None
) -> BuildResult:
    """Run one dbt command as a child process, on `config.duckdb_path` as it is."""
    TARGET_DIR.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(PROJECT_DIR / "target" / ".patchrisk.lock", f"dbt's folder {TARGET_DIR}"):
        for artifact in ("run_results.json", "sources.json"):
            (TARGET_DIR / artifact).unlink(missing_ok=True)
        started = time.perf_counter()
        returncode, log = _stream_dbt(dbt_args(command, config), dbt_env(config), progress)
        elapsed = time.perf_counter() - started
        nodes = read_run_results(TARGET_DIR, command)
    return BuildResult(
        success=returncode == 0,
        returncode=returncode,
        duckdb_path=Path(config.duckdb_path),
        elapsed_seconds=elapsed,
        nodes=nodes,
        log=log,
    )


def run_dbt(
    command: DbtCommand = "build",
    config: BuildConfig | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Run one dbt command, calling `progress` with each node dbt finishes.

    On DuckDB dbt writes a working copy, published only when dbt succeeds (`publishing`):
    after a failure the warehouse is the last good one. `source freshness` reads only the raw
    files: it runs on an empty working file and never touches the warehouse.
    """
    config = config or BuildConfig()
    if config.target not in (None, "duckdb"):
        return _dbt_process(command, config, progress)
    raw_only = command in RAW_ONLY_COMMANDS
    with publishing(config.duckdb_path, start_from_published=not raw_only) as working:
        result = _dbt_process(
            command, dataclasses.replace(config, duckdb_path=working.path), progress
        )
        if not result.success or command in READING_COMMANDS or raw_only:
            working.discard()
    return dataclasses.replace(result, duckdb_path=Path(config.duckdb_path))


def build(config: BuildConfig | None = None, progress: Progress | None = None) -> BuildResult:
    """`dbt build`: every model, data test and unit test of the project."""
    return run_dbt("build", config, progress)


def source_freshness(config: BuildConfig | None = None) -> BuildResult:
    """`dbt source freshness`: how far each raw fleet table's newest day lags the data's
    as-of date (one node per source table; status pass, warn or error)."""
    return run_dbt("source freshness", config)


def read_table(duckdb_path: Path, relation: str) -> pd.DataFrame:
    """A whole warehouse relation (e.g. `marts.fct_release_features`) as a DataFrame."""
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return con.execute(f"select * from {relation}").df()


ML_SCHEMA = "ml"
Contract = tuple[tuple[str, str], ...]  # (column, DuckDB type) in order


def write_ml_tables(
    duckdb_path: Path, tables: dict[str, tuple[pd.DataFrame, Contract]], append: bool = False
) -> dict[str, int]:
    """Replace (or append to) each `ml.<name>` with its frame cast to its contract, all
    published at once (`publishing`); returns the rows each table then holds."""
    path = Path(duckdb_path)
    if not path.is_file():
        raise EnvironmentFailure(f"no warehouse at {path}")
    try:
        with publishing(path) as working, duckdb.connect(str(working.path)) as con:
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
                failpoint("warehouse.ml_table_written")
            return {
                name: int(con.execute(f"select count(*) from {ML_SCHEMA}.{name}").fetchall()[0][0])
                for name in tables
            }
    except duckdb.Error as exc:
        raise EnvironmentFailure(f"cannot write {ML_SCHEMA} tables to {path}: {exc}") from exc
