"""The dbt child process of ml.warehouse.dbt:
`python -m ml.warehouse.dbt_child PARENT_PID DBT_ARGS...`.

On Linux it first asks the kernel for SIGKILL when its parent dies (PR_SET_PDEATHSIG), so a
killed `patchrisk build` leaves no orphan dbt writing; it exits at once when the parent
died before that. Done here, after exec, rather than in a preexec_fn, which is unsafe in a
parent that runs threads (DuckDB, BLAS).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def main() -> None:
    parent = int(sys.argv.pop(1))
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            sys.exit(1)
    from dbt.cli.main import cli

    sys.exit(cli())


if __name__ == "__main__":
    main()
