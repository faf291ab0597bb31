"""Branch patterns run on a linear-time engine: pushers choose the names they are matched on.

A pattern must be valid for Python's `re` (what the policy documents) and for RE2, which never
backtracks; RE2 refuses lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`), backreferences (`\\1`,
`(?P=name)`) and repetition counts over 1000. Matching is a full match, as `re.fullmatch`.
"""
from __future__ import annotations

import re
from typing import Protocol

import re2


class Pattern(Protocol):
    """What a compiled branch pattern offers: a full match in linear time."""

    def fullmatch(self, text: str) -> object | None: ...


class PatternError(ValueError):
    """A pattern flowwarden cannot run; the message says why."""


_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the refusal is reported as a policy error, not on stderr


def compile_pattern(pattern: str) -> Pattern:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise PatternError(f"invalid regular expression {pattern!r}: {exc}") from None
    try:
        compiled: Pattern = re2.compile(pattern, options=_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(
            exc.args[0], bytes) else str(exc)
        raise PatternError(
            f"regular expression {pattern!r} needs backtracking, which flowwarden refuses "
            f"because pushers choose the names it runs on ({reason}); expected RE2 syntax: "
            "no lookaround, no backreferences, repetition counts up to 1000") from None
    return compiled
