"""Click pieces shared by the `patchrisk` commands (import-light: the gate's cold start)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ml.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, fail

DUCKDB_OPTION = click.option(
    "--duckdb",
    "duckdb_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Warehouse file [default: $PATCHRISK_DUCKDB_PATH or warehouse/patchrisk.duckdb].",
)


class OneLineErrors:
    """Mixin for a click command or group: usage errors (an unknown option, a bad value,
    a missing argument) print one `error: ...` line and exit 2, like every other bad input,
    instead of click's usage block."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
            fail(exc.format_message() + hint, EXIT_BAD_INPUT)
        except click.Abort:  # Ctrl-C: the shell's convention for SIGINT
            fail("interrupted", EXIT_INTERRUPTED)
        sys.exit(result if isinstance(result, int) else 0)


class Group(OneLineErrors, click.Group):
    """The `patchrisk` command group."""


class Command(OneLineErrors, click.Command):
    """A command run on its own (scripts/risk_gate.py)."""
