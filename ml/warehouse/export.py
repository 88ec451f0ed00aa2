"""Export the public marts as Parquet files for BI tools (one file per mart).

Layout: `OUT` is a symbolic link to a hidden sibling folder `.<OUT name>.export-<stamp>/`
holding `<mart>.parquet` files and a manifest (`.patchrisk-export.json`: the format, the
files, whether the export is complete). An export

1. refuses an `OUT` it cannot replace without removing something it did not write: a
   non-empty folder, a file, or a symbolic link it did not make (BadInputError, exit 2);
   an empty folder is replaced;
2. reads the warehouse read-only inside one transaction (every file from the same snapshot);
3. under the lock `.<OUT name>.export.lock` (a second export waits), writes a new folder:
   the manifest first (listing the files it will write), then the files, then the
   complete manifest, all fsynced;
4. points `OUT` at the new folder by renaming a new link over it (atomic), then removes
   the previous folder.

So a reader of `OUT` sees the old or the new complete set, also when an export is killed.
Only files a manifest lists are ever removed (then the manifest and the folder, if empty);
folders a killed export left are removed by the next export.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ml.errors import BadInputError, EnvironmentFailure
from ml.failpoints import failpoint
from ml.warehouse.filesystem import exclusive_lock, fsync_path
from ml.warehouse.readers import BUILD_HINT, read_only_warehouse

MARTS_SCHEMA = "marts"
MANIFEST = ".patchrisk-export.json"
MANIFEST_FORMAT = "patchrisk-export/1"


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


# ---- the export folders -------------------------------------------------------------------
def _folder_prefix(out: Path) -> str:
    return f".{out.name}.export-"


def _read_manifest(folder: Path) -> dict | None:
    """The folder's manifest (or the new one a kill left unrenamed), None without one."""
    for name in (MANIFEST, f"{MANIFEST}.new"):
        try:
            manifest = json.loads((folder / name).read_text())
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and manifest.get("format") == MANIFEST_FORMAT:
            return manifest
    return None


def _write_at_once(path: Path, text: str) -> None:
    """Write a small new file with one write(2), fsynced: after a kill it is whole or absent."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_manifest(folder: Path, files: list[str], rows: dict[str, int] | None) -> None:
    """Write (or atomically replace) the manifest; `rows` None marks an export in progress."""
    manifest = {"format": MANIFEST_FORMAT, "complete": rows is not None, "files": files}
    if rows is not None:
        manifest["rows"] = rows
    new = folder / f"{MANIFEST}.new"
    _write_at_once(new, json.dumps(manifest, indent=2) + "\n")
    os.replace(new, folder / MANIFEST)


def _remove_folder(folder: Path) -> None:
    """Remove an export folder: the files its manifest lists, the manifest, then the folder
    if nothing else is left in it (a folder without a manifest only when empty)."""
    manifest = _read_manifest(folder)
    if manifest is not None:
        for name in manifest.get("files", []):
            if isinstance(name, str) and "/" not in name and name.endswith(".parquet"):
                (folder / name).unlink(missing_ok=True)
                failpoint("export.old_file_removed")
        (folder / f"{MANIFEST}.new").unlink(missing_ok=True)
        (folder / MANIFEST).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # a file we did not write is in it: leave it
        folder.rmdir()


def _linked_folder(out: Path) -> Path | None:
    """The export folder `out` links to; None when `out` does not exist or is an empty
    folder. BadInputError when `out` is anything else (never replaced)."""
    hint = "move it away or pick another --out"
    if out.is_symlink():
        target = os.readlink(out)
        folder = out.parent / target
        ours = "/" not in target and target.startswith(_folder_prefix(out))
        if ours and (not folder.exists() or _read_manifest(folder) is not None):
            return folder
        raise BadInputError(f"--out {out} is a link patchrisk export did not make; {hint}")
    if not out.exists():
        return None
    if not out.is_dir():
        raise BadInputError(f"--out {out} is a file, not an export folder; {hint}")
    if any(out.iterdir()):
        raise BadInputError(f"--out {out} is a folder with files patchrisk did not write; {hint}")
    return None


def _remove_stale(out: Path, keep: Iterable[Path]) -> None:
    """Remove the export folders and temporary links a killed export left beside `out`."""
    keep = {p.name for p in keep}
    for path in out.parent.glob(f"{_folder_prefix(out)}*"):
        if path.name not in keep and path.is_dir() and not path.is_symlink():
            _remove_folder(path)
    for link in out.parent.glob(f".{out.name}.link-*"):
        if link.is_symlink():
            link.unlink()


def _link(out: Path, folder: Path) -> None:
    """Point `out` at `folder` atomically (a new link renamed over it)."""
    link = out.with_name(f".{out.name}.link-{os.getpid()}")
    link.unlink(missing_ok=True)
    os.symlink(folder.name, link)
    if out.is_dir() and not out.is_symlink():
        out.rmdir()  # an empty folder (checked): a link cannot be renamed over a folder
    os.replace(link, out)
    failpoint("export.linked")
    fsync_path(out.parent)


def _write_marts(con, marts: list[str], folder: Path) -> dict[str, int]:
    """Write each mart to `folder/<mart>.parquet` (fsynced); returns the rows of each."""
    rows = {}
    for name in marts:
        relation = f"{_quote(MARTS_SCHEMA)}.{_quote(name)}"
        path = folder / f"{name}.parquet"
        con.execute(
            f"copy (select * from {relation}) to {_sql_string(str(path))} "
            "(format parquet, compression zstd)"
        )
        (rows[name],) = con.execute(f"select count(*) from {relation}").fetchone()
        fsync_path(path)
        failpoint("export.mart_written")
    return rows


def export_marts(duckdb_path: Path, out_dir: Path, lock_timeout: float = 0.0) -> list[ExportedMart]:
    """Write every public mart of `duckdb_path` to `out_dir/<mart>.parquet`, replacing the
    previous export as a whole (see the module docstring)."""
    out = Path(os.path.abspath(out_dir))
    if out.parent == out:
        raise BadInputError(f"--out {out} cannot be replaced; pick a folder below it")
    _linked_folder(out)  # refuse early, before reading the warehouse
    try:
        with read_only_warehouse(duckdb_path, lock_timeout, reader="patchrisk export") as con:
            marts = public_marts(con)
            if not marts:
                raise EnvironmentFailure(
                    f"{duckdb_path} has no tables in schema {MARTS_SCHEMA} ({BUILD_HINT})"
                )
            out.parent.mkdir(parents=True, exist_ok=True)
            with exclusive_lock(out.with_name(f".{out.name}.export.lock"), f"the export {out}"):
                previous = _linked_folder(out)  # again, under the lock
                _remove_stale(out, keep=[previous] if previous else [])
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
                folder = out.with_name(f"{_folder_prefix(out)}{stamp}-{os.getpid()}")
                folder.mkdir()
                files = [f"{name}.parquet" for name in marts]
                _write_manifest(folder, files, None)
                rows = _write_marts(con, marts, folder)
                _write_manifest(folder, files, rows)
                fsync_path(folder)
                failpoint("export.folder_written")
                _link(out, folder)
                if previous is not None and previous.exists():
                    _remove_folder(previous)
                    failpoint("export.previous_removed")
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write the export to {out}: {exc}") from exc
    return [ExportedMart(name, rows[name], out / f"{name}.parquet") for name in marts]
