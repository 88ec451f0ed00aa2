#!/usr/bin/env python3
"""The CI risk gate as a script, as the prototype's: `python scripts/risk_gate.py patches.csv`.

A thin wrapper over `patchrisk gate` (same options, same exit codes: 0 pass, 1 a patch
fails the gate, 2 bad input or usage, 3 environment failure); see `--help`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.cli.gate import main

if __name__ == "__main__":
    main(prog_name="risk_gate.py")
