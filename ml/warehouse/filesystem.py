"""Filesystem pieces of crash-safe writes: fsync, and an exclusive lock between patchrisk
processes (`fcntl.flock` on a lock file).

The kernel drops the lock when its holder dies (SIGKILL included), so a killed writer never
blocks the next one. The file descriptor is not inherited by child processes (Python opens
files non-inheritable), so a dbt child never holds the lock. The lock file itself stays (it
holds the holder's pid, for the waiting message); removing it would let two processes lock
two different files.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ml.errors import EnvironmentFailure

WAIT_ENV = "PATCHRISK_LOCK_WAIT_SECONDS"
DEFAULT_WAIT_SECONDS = 3600.0
POLL_SECONDS = 0.1


def fsync_path(path: Path) -> None:
    """fsync a file or a folder (a folder: so that a rename in it survives a power cut)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def lock_wait_seconds() -> float:
    """How long a second writer waits: $PATCHRISK_LOCK_WAIT_SECONDS, else one hour."""
    text = os.environ.get(WAIT_ENV, "")
    try:
        return max(float(text), 0.0) if text else DEFAULT_WAIT_SECONDS
    except ValueError:
        raise EnvironmentFailure(f"{WAIT_ENV}={text!r} is not a number of seconds") from None


def _holder(fd: int) -> str:
    """The pid the current holder wrote into the lock file ('' when unknown)."""
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return f" (pid {text})" if text.isdigit() else ""


@contextmanager
def exclusive_lock(lock_path: Path, what: str, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` for the block.

    When another process holds it, say so once on stderr and wait up to `wait_seconds`
    (default `lock_wait_seconds()`), then raise EnvironmentFailure. `what` names the
    protected thing in those messages, e.g. "the warehouse /x/patchrisk.duckdb".
    """
    wait = lock_wait_seconds() if wait_seconds is None else wait_seconds
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise EnvironmentFailure(
            f"cannot create the lock file {lock_path}: {exc.strerror}"
        ) from exc
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise EnvironmentFailure(
                        f"another patchrisk process{_holder(fd)} is still writing {what} after "
                        f"{wait:.0f} s; retry when it has finished (or raise {WAIT_ENV})"
                    ) from None
                if not told:
                    print(
                        f"waiting for another patchrisk process{_holder(fd)} writing {what} ...",
                        file=sys.stderr,
                        flush=True,
                    )
                    told = True
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
