"""Branch patterns run on a linear-time engine: pushers choose the names they are matched on.

A pattern must be valid for Python's `re` (what the policy documents) and for RE2, which never
backtracks; RE2 refuses lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`), backreferences (`\\1`,
`(?P=name)`) and repetition counts over 1000. Matching is a full match, as `re.fullmatch`.

One difference the two accept silently: RE2's `\\d`, `\\w`, `\\s` and `\\b` (and `\\D`, `\\W`,
`\\S`, `\\B`) are ASCII-only, where Python's `re` on text is Unicode-aware: `\\d` matches `7`
but not the Arabic-Indic `٧`, `\\w` not `é`. `ascii_only_escapes` finds them for a warning.
"""
from __future__ import annotations

import re
import sys
from importlib import import_module
from typing import Any, Protocol

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


#: sre's names for the escapes whose RE2 meaning is ASCII-only, as the policy author wrote them.
ASCII_ONLY = {"CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_WORD": r"\w",
              "CATEGORY_NOT_WORD": r"\W", "CATEGORY_SPACE": r"\s",
              "CATEGORY_NOT_SPACE": r"\S", "AT_BOUNDARY": r"\b", "AT_NON_BOUNDARY": r"\B"}


def ascii_only_escapes(pattern: str) -> list[str]:
    """The escapes in `pattern` (`\\d`, `\\w`, `\\s`, `\\b`, upper case too) that RE2 runs as
    ASCII-only, each once, in the order met; [] for a pattern Python's `re` cannot parse."""
    parser: Any = import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")
    try:
        tree = parser.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return []
    found: dict[str, None] = {}
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)) or type(node).__name__ == "SubPattern":
            stack.extend(reversed(list(node)))
        elif str(node) in ASCII_ONLY:
            found.setdefault(ASCII_ONLY[str(node)])
    return list(found)
