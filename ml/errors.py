"""Errors the ml package raises; each carries the CLI exit code it maps to."""

from __future__ import annotations

import sys
from typing import NoReturn

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 3
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT


class PatchriskError(Exception):
    """Base class: a one-line message and an exit code."""

    exit_code = EXIT_FAILURE


class BadInputError(PatchriskError):
    """The input data or the request is unusable (exit 2)."""

    exit_code = EXIT_BAD_INPUT


class EnvironmentFailure(PatchriskError):
    """A missing warehouse, a corrupted registry, an unwritable folder ... (exit 3)."""

    exit_code = EXIT_FAILURE


class IntegrityError(EnvironmentFailure):
    """A registry file's SHA-256 does not match its metadata (exit 3)."""


def fail(message: str, code: int) -> NoReturn:
    """CLI edge: print a one-line `error: ...` to stderr and exit with `code`."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)
