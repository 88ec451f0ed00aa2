"""`patchrisk`: the click command line, a thin layer on top of every other package.

One module per command group; `main` is the entry point (pyproject `ml.cli:main`).
"""

from ml.cli.main import main

__all__ = ["main"]
