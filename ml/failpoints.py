"""Named points where the fault-injection tests kill the process.

`failpoint("registry.save.files_written")` does nothing unless the environment variable
PATCHRISK_KILL_AT names that point; then the process kills itself with SIGKILL there, as a
power cut or the OOM killer would: no `finally`, no `atexit`. `NAME@N` kills on the N-th
time the point is reached (for points inside loops). tests/faults/ uses this to prove that
every save and rename window leaves the registry, the warehouse and the exports whole.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

KILL_AT_ENV = "PATCHRISK_KILL_AT"
_reached: Counter[str] = Counter()


def failpoint(name: str) -> None:
    """SIGKILL this process here when $PATCHRISK_KILL_AT is `name` (or `name@N`, the N-th
    time); otherwise nothing."""
    wanted = os.environ.get(KILL_AT_ENV)
    if not wanted or not wanted.startswith(name):
        return
    _reached[name] += 1
    point, _, nth = wanted.partition("@")
    if point == name and _reached[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
