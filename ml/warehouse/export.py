"""Export the public marts as Parquet files for BI tools (one file per mart).

Reads the warehouse read-only inside one transaction (every file comes from the same
snapshot) and writes atomically: the files go to a temporary folder beside the target,
which then replaces the target by renames, so a reader never sees a half-written export.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ml.errors import EnvironmentFailure
from ml.warehouse.readers import read_only_warehouse

MARTS_SCHEMA = "marts"


@dataclass(frozen=True)
class ExportedMart:
    """One mart written as `<out_dir>/<name>.parquet`."""

    name: str
    rows: int
    path: Path

    def as_dict(self) -> dict[str, object]:
        return {"mart": self.name, "rows": self.rows, "path": str(self.path)}


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def public_marts(con) -> list[str]:
    """Tables of the marts schema (every model there is `access: public`), sorted."""
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
        [MARTS_SCHEMA],
    ).fetchall()
    return [name for (name,) in rows]


def _replace_dir(new: Path, target: Path) -> None:
    """Move `new` to `target`, replacing any existing folder there (two renames)."""
    old = None
    if target.exists():
        if not target.is_dir():
            raise EnvironmentFailure(f"{target} exists and is not a folder")
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        old.rmdir()
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def export_marts(duckdb_path: Path, out_dir: Path, lock_timeout: float = 0.0) -> list[ExportedMart]:
    """Write every public mart of `duckdb_path` to `out_dir/<mart>.parquet` (replacing out_dir)."""
    out_dir = Path(out_dir).resolve()
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; BI readers need to list it
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write to {out_dir.parent}: {exc.strerror}") from exc
    try:
        exported = []
        with read_only_warehouse(duckdb_path, lock_timeout, reader="patchrisk export") as con:
            marts = public_marts(con)
            if not marts:
                raise EnvironmentFailure(
                    f"{duckdb_path} has no tables in schema {MARTS_SCHEMA} (run `patchrisk build`)"
                )
            for name in marts:
                relation = f"{_quote(MARTS_SCHEMA)}.{_quote(name)}"
                path = staging / f"{name}.parquet"
                con.execute(
                    f"copy (select * from {relation}) to {_sql_string(str(path))} "
                    "(format parquet, compression zstd)"
                )
                (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
                exported.append(ExportedMart(name, int(rows), out_dir / path.name))
        _replace_dir(staging, out_dir)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write the export to {out_dir}: {exc}") from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return exported
