"""Policy errors: where (file, line, column, key path) and what was expected."""
from __future__ import annotations

from collections.abc import Sequence


def format_path(path: Sequence[object]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


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
