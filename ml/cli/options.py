"""Click pieces shared by every `patchrisk` command (import-light: the gate's cold start):
the command classes that give one error style, and the options every command spells the
same way (`--warehouse`, `--registry`, `--raw-dir`, `--json`)."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from ml.errors import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED, PatchriskError, fail

TEXT_WIDTH = 100  # columns every command's text output fits in
_FILE = click.Path(dir_okay=False, path_type=Path)


def warehouse_option(command):
    """`--warehouse PATH`, the DuckDB file (`--duckdb PATH`: its old name, hidden, still
    accepted). The command receives `warehouse`: the path given, else the default."""

    @functools.wraps(command)
    def with_warehouse(*args, warehouse: Path | None, duckdb_alias: Path | None, **kwargs):
        if warehouse is not None and duckdb_alias is not None:
            raise click.UsageError("give --warehouse only (--duckdb is its old name)")
        from ml.warehouse.dbt import default_duckdb_path

        return command(
            *args, warehouse=warehouse or duckdb_alias or default_duckdb_path(), **kwargs
        )

    with_warehouse = click.option("--duckdb", "duckdb_alias", type=_FILE, hidden=True)(
        with_warehouse
    )
    return click.option(
        "--warehouse",
        type=_FILE,
        metavar="PATH",
        help="Warehouse file  [default: $PATCHRISK_DUCKDB_PATH or warehouse/patchrisk.duckdb]",
    )(with_warehouse)


REGISTRY_OPTION = click.option(
    "--registry",
    "registry_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Model registry folder  [default: $PATCHRISK_REGISTRY_DIR or models_artifacts]",
)

JSON_OPTION = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as one JSON document."
)


class OneLineErrors:
    """Mixin for a click command or group: every error prints one `error: ...` line on
    stderr and exits with its code: usage errors (an unknown option, a bad value, a missing
    argument) 2, a PatchriskError its own code, anything unexpected 3 (never a traceback),
    Ctrl-C 130. A group called without a command prints its help."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help())
            sys.exit(0)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
            fail(exc.format_message() + hint, EXIT_BAD_INPUT)
        except click.Abort:  # Ctrl-C: the shell's convention for SIGINT
            fail("interrupted", EXIT_INTERRUPTED)
        except PatchriskError as exc:
            fail(str(exc), exc.exit_code)
        except Exception as exc:  # never a traceback
            fail(f"internal error: {type(exc).__name__}: {exc}", EXIT_FAILURE)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # here, before click's main prints an empty line for it
            fail("interrupted", EXIT_INTERRUPTED)


class Group(OneLineErrors, click.Group):
    """A `patchrisk` command group (the main one, `models`)."""


class Command(OneLineErrors, click.Command):
    """A `patchrisk` command: the same error style when run on its own (scripts/risk_gate.py)."""


command = functools.partial(click.command, cls=Command)
