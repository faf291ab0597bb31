"""The one error boundary: every command raises; here each failure becomes one readable line
and an exit code (core.errors.Exit). Nothing fails open: an internal error refuses (exit 3)."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, TextIO

from flowwarden.core.errors import Exit, NotARepository, PolicyError, UsageError

if TYPE_CHECKING:
    import argparse

_NO_VERIFY = "skip deliberately with --no-verify (CI and the server still check)"


class Where(NamedTuple):
    """Who speaks, and how a user gets past a failure there."""

    prog: str  # "flowwarden", "flowwarden ci"
    policy_fix: str  # what to do about a broken policy
    skip: str | None = None  # how to skip deliberately, where one can


LOCAL = Where("flowwarden", f"correct the policy (`flowwarden policy validate`), or {_NO_VERIFY}",
              _NO_VERIFY)
SERVER = Where("flowwarden", "correct the policy on the protected branch (`flowwarden policy "
               "validate`); a push cannot skip this server-side check, so ask the server's "
               "administrators to apply the fix")
CI = Where("flowwarden ci", "correct the policy on the target branch; the incoming commits "
           "cannot change which policy judges them")
AUDIT = Where("flowwarden audit", "correct the policy (`flowwarden policy validate`)")
COMMAND = Where("flowwarden", "correct the policy (`flowwarden policy validate`)")

_GLOBAL_OPTIONS = ("-C", "--format", "--color")  # they take a value


def where(argv: Sequence[str]) -> Where:
    """Which command `argv` runs, read without parsing it (parsing may be what fails)."""
    words: list[str] = []
    rest = iter(argv)
    for word in rest:
        if word in _GLOBAL_OPTIONS:
            next(rest, None)
        elif not word.startswith("-"):
            words.append(word)
    command, stage = (words + ["", ""])[:2]
    if command == "hook":
        return SERVER if stage == "pre-receive" else LOCAL
    return {"ci": CI, "audit": AUDIT}.get(command, COMMAND)


class Stop(Exception):
    """The command is done before it ran (argparse printed help or a usage error)."""

    def __init__(self, code: Exit) -> None:
        super().__init__(code.name)
        self.code = code


def guarded(run: Callable[[], int], at: Where, err: TextIO, env: Mapping[str, str]) -> int:
    """`run()`'s exit code, or the failure it raised as one line and its exit code."""
    try:
        return run()
    except Stop as stop:
        return stop.code
    except KeyboardInterrupt:
        err.write(f"{at.prog}: interrupted\n")
        return Exit.INTERNAL
    except Exception as exc:  # every failure becomes one readable line and a closed gate
        return report_failure(exc, at, err, env)


def report_failure(exc: Exception, at: Where, err: TextIO, env: Mapping[str, str]) -> Exit:
    if isinstance(exc, PolicyError):
        err.write(f"{at.prog}: policy error: {exc}\n  fix: {at.policy_fix}\n")
        return Exit.USAGE
    if isinstance(exc, UsageError):
        fix = exc.fix or ("run it inside a git repository, or pass -C <dir>"
                          if isinstance(exc, NotARepository) else None)
        err.write(f"{at.prog}: {exc}\n" + (f"  fix: {fix}\n" if fix else ""))
        return Exit.USAGE
    if env.get("FLOWWARDEN_DEBUG"):
        import traceback

        traceback.print_exception(exc, file=err)
    hint = f"; {at.skip}" if at.skip else ""
    err.write(f"{at.prog}: internal error, refusing to let the operation through: "
              f"{type(exc).__name__}: {exc}\n"
              f"  (FLOWWARDEN_DEBUG=1 shows the traceback{hint})\n")
    return Exit.INTERNAL


def parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """Parse `argv`; argparse's own exits (`--help`: 0, bad arguments: 2) pass as they are."""
    try:
        return parser.parse_args(list(argv))
    except SystemExit as stop:
        raise Stop(Exit.USAGE if stop.code else Exit.OK) from None
