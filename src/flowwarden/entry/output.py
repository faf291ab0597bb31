"""Printing an outcome and choosing its exit code: shared by every command."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from flowwarden.core.errors import Exit
from flowwarden.core.records import Outcome
from flowwarden.report import Report, reporter


def use_color(choice: str, stream: TextIO, env: Mapping[str, str]) -> bool:
    """--color: always, never, or auto (a terminal, unless NO_COLOR or TERM=dumb)."""
    if choice == "always":
        return True
    if choice == "never" or env.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty() and env.get("TERM") != "dumb"


def exit_for(outcome: Outcome) -> Exit:
    return Exit.VIOLATION if outcome.blocking else Exit.OK


def emit(outcome: Outcome, what: str, fmt: str, color: str, stream: TextIO,
         env: Mapping[str, str], json_stream: TextIO | None = None,
         local: bool = True) -> Exit:
    """Print an outcome in format `fmt` (json to `json_stream` when given, so a hook's stdout
    stays machine-readable) and return its exit code."""
    if fmt == "text" and not (outcome.violations or outcome.notes):
        return exit_for(outcome)  # nothing to say: a passing hook loads no reporter
    target = (json_stream or stream) if fmt == "json" else stream
    report = Report(outcome, what, f"flowwarden: {what}", local,
                    use_color(color, stream, env))
    target.write(reporter(fmt)(report))
    return exit_for(outcome)
