"""Read-only access to the warehouse for every reader (gate, monitor, canary, report,
export): one consistent snapshot per reader, clear errors for a missing or locked file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import duckdb

from ml.errors import EnvironmentFailure

CONTEXT_MART = "marts.fct_platform_daily_context"
BUILD_HINT = "run `patchrisk build` first"  # for a missing warehouse or mart, everywhere


def require_warehouse(path: Path) -> Path:
    """`path`, or EnvironmentFailure with the one hint every command gives for a missing
    warehouse."""
    if not Path(path).is_file():
        raise EnvironmentFailure(f"no warehouse at {path} ({BUILD_HINT})")
    return Path(path)


def _is_lock_error(exc: duckdb.Error) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


@contextmanager
def read_only_warehouse(
    path: Path, lock_timeout: float = 0.0, reader: str = "the gate"
) -> Iterator:
    """A read-only DuckDB connection inside one transaction (a consistent snapshot).

    A file held by a writer is retried until `lock_timeout` seconds have passed, then
    raises EnvironmentFailure; so does a missing or unreadable file. `reader` names the
    command in the message about a missing mart.
    """
    path = require_warehouse(path)
    deadline = time.monotonic() + max(lock_timeout, 0.0)
    while True:
        try:
            con = duckdb.connect(str(path), read_only=True)
            break
        except duckdb.Error as exc:
            if _is_lock_error(exc):
                if time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                raise EnvironmentFailure(
                    f"the warehouse {path} is locked by a writer (a dbt build?); "
                    "retry when it has finished (or pass --lock-timeout SECONDS)"
                ) from exc
            raise EnvironmentFailure(f"cannot open the warehouse {path}: {exc}") from exc
    try:
        con.execute("begin transaction")
        yield con
        con.execute("commit")
    except duckdb.CatalogException as exc:
        raise EnvironmentFailure(
            f"{path} lacks a mart {reader} reads ({BUILD_HINT}): {str(exc).splitlines()[0]}"
        ) from exc
    except duckdb.Error as exc:
        raise EnvironmentFailure(f"cannot read the warehouse {path}: {exc}") from exc
    finally:
        con.close()


def as_of_date(con) -> date:
    """The data's as-of date: the day before the context mart's first 'now' row."""
    value = con.execute(
        f"select min(context_date) from {CONTEXT_MART} where is_after_as_of_date"
    ).fetchall()[0][0]
    if value is None:
        raise EnvironmentFailure(f"{CONTEXT_MART} is empty ({BUILD_HINT})")
    return value - timedelta(days=1)
