"""Fault injection: run `patchrisk` in a child process and kill it (SIGKILL) at a named
failpoint (ml/failpoints.py) or after a delay, then check what it left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ml.failpoints import KILL_AT_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
PATCHRISK_MAIN = "from ml.cli import main; main()"
PATCHRISK = [sys.executable, "-c", PATCHRISK_MAIN]  # the command line of `patchrisk`


@dataclass(frozen=True)
class Outcome:
    """How a child `patchrisk` run ended."""

    returncode: int
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


def run_patchrisk(
    args: list[str],
    env: dict[str, str] | None = None,
    *,
    kill_at: str | None = None,
    kill_after: float | None = None,
    timeout: float = 300,
    code: str = PATCHRISK_MAIN,
) -> Outcome:
    """Run `patchrisk ARGS` from the repo root (or other Python `code` with ARGS as its
    sys.argv[1:]); killed at failpoint `kill_at`, or with SIGKILL after `kill_after` seconds
    (its whole process group, dbt included)."""
    child_env = {**os.environ, **(env or {})}
    child_env.pop(KILL_AT_ENV, None)
    if kill_at:
        child_env[KILL_AT_ENV] = kill_at
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO_ROOT,
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    if kill_after is not None:
        deadline = time.monotonic() + kill_after
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    _, stderr = proc.communicate(timeout=timeout)
    return Outcome(proc.returncode, stderr)
