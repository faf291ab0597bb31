"""Every error flowwarden raises on purpose, and the exit code each one maps to.

The one error boundary (`flowwarden.entry.boundary`) turns these into one readable line and an
exit code; anything else is an internal error and fails closed.
"""
from __future__ import annotations

import enum
from collections.abc import Sequence


class Exit(enum.IntEnum):
    """flowwarden's exit codes, for every command and hook."""

    OK = 0  # passed (warnings and waivers allowed)
    VIOLATION = 1  # at least one blocking violation
    USAGE = 2  # bad arguments, bad hook input, a broken policy file, no repository
    INTERNAL = 3  # a bug or an environment failure: the operation is refused


def format_path(path: Sequence[object]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class UsageError(Exception):
    """The command cannot run as asked; str() says what is wrong, `fix` what to do."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


class NotARepository(UsageError):
    """The working directory is not inside a git repository."""


class PolicyError(Exception):
    """A policy that cannot be used; str() is one line a user can act on."""

    def __init__(self, file: str, line: int | None, column: int | None,
                 path: Sequence[object], message: str) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.path = tuple(path)
        self.message = message
        where = file if line is None else f"{file}:{line}:{column}"
        key = format_path(self.path)
        super().__init__(f"{where}: {key + ': ' if key else ''}{message}")
