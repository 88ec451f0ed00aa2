"""Write the raw tables as CSV (the committed default world) or Parquet (scale)."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from types import TracebackType
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ml.failpoints import failpoint

Format = Literal["csv", "parquet"]
ORACLE_DIR = "oracle"
MANIFEST = "world.json"


def _csv_ready(table: pa.Table) -> pa.Table:
    """CSV spelling of the contract: lowercase booleans, timestamps without a zone."""
    columns = []
    for col in table.columns:
        if pa.types.is_boolean(col.type):
            col = pc.if_else(col, "true", "false")
        elif pa.types.is_dictionary(col.type):
            col = col.cast(pa.string())
        elif pa.types.is_timestamp(col.type):
            col = pc.strftime(col.cast(pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S")
        columns.append(col)
    return pa.Table.from_arrays(columns, names=table.column_names)


class RawWriter:
    """Writes tables into `<out>/.partial/`, then moves them into place all at once.

    Use it as a context manager: any failure inside (an error, MemoryError, Ctrl-C) removes
    `.partial/` and leaves out_dir as it was. A `.partial/` left by a killed run is removed
    when the next run starts. world.json is removed first and moved last on commit, so a
    world.json in out_dir means a complete set of tables.
    """

    def __init__(self, out_dir: Path, fmt: Format) -> None:
        self.out_dir = out_dir
        self.fmt = fmt
        self.staging = out_dir / ".partial"
        shutil.rmtree(self.staging, ignore_errors=True)
        (self.staging / ORACLE_DIR).mkdir(parents=True)
        self._streams: dict[str, pq.ParquetWriter | pacsv.CSVWriter] = {}

    def __enter__(self) -> RawWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.discard()

    def path(self, name: str) -> Path:
        return self.staging / f"{name}.{self.fmt}"

    def write(self, name: str, frame: pd.DataFrame) -> None:
        """Write a whole table."""
        self.append(name, pa.Table.from_pandas(frame, preserve_index=False))
        self.close(name)

    def append(self, name: str, table: pa.Table) -> None:
        """Append a batch to a streamed table (opened on first use)."""
        failpoint("generate.write")
        table = table.replace_schema_metadata(None)
        if self.fmt == "csv":
            table = _csv_ready(table)
        if name not in self._streams:
            self.path(name).parent.mkdir(parents=True, exist_ok=True)
            if self.fmt == "csv":
                options = pacsv.WriteOptions(quoting_style="needed")
                self._streams[name] = pacsv.CSVWriter(
                    self.path(name), table.schema, write_options=options
                )
            else:
                self._streams[name] = pq.ParquetWriter(
                    self.path(name), table.schema, compression="zstd"
                )
        self._streams[name].write_table(table)

    def close(self, name: str) -> None:
        self._streams.pop(name).close()

    def commit(self) -> None:
        """Move every written file into out_dir, replacing older ones."""
        for stream in self._streams.values():
            stream.close()
        self._streams.clear()
        (self.out_dir / MANIFEST).unlink(missing_ok=True)
        for src in sorted(self.staging.rglob(f"*.{self.fmt}")):
            failpoint("generate.commit")
            dest = self.out_dir / src.relative_to(self.staging)
            dest.parent.mkdir(parents=True, exist_ok=True)
            src.replace(dest)
        failpoint("generate.commit")
        (self.staging / MANIFEST).replace(self.out_dir / MANIFEST)
        shutil.rmtree(self.staging)

    def discard(self) -> None:
        """Drop everything written so far; out_dir keeps its files."""
        for stream in self._streams.values():
            with contextlib.suppress(Exception):  # a half-written file is removed anyway
                stream.close()
        self._streams.clear()
        shutil.rmtree(self.staging, ignore_errors=True)


def dictionary_column(codes: np.ndarray, values: np.ndarray | list[str]) -> pa.DictionaryArray:
    """A string column stored as indices into its distinct values."""
    return pa.DictionaryArray.from_arrays(
        pa.array(codes, pa.int32()), pa.array(values, pa.string())
    )


def timestamp_column(start: pd.Timestamp, seconds: np.ndarray) -> pa.Array:
    """UTC timestamps (no zone) from seconds since the world's start, -1 meaning null."""
    micros = (start.value // 1000) + seconds.astype(np.int64) * 1_000_000
    return pa.array(micros, pa.timestamp("us"), mask=seconds < 0)
