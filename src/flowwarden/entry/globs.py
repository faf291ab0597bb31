"""Branch-kind patterns (regular expressions) as the fnmatch-style globs forges take.

A glob cannot say everything a regular expression can: a repetition becomes `*` (`**` where
it could match `/`), a character class `?`. Such a glob matches more names than the pattern;
`Globs.exact` says whether it matches exactly the same ones.
"""
from __future__ import annotations

import fnmatch
import importlib
import re
import sys
from typing import Any, NamedTuple

# The regular-expression parser of the standard library (public as sre_parse up to 3.10).
_sre: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")
_MAX_GLOBS = 16
_MAX_EXPAND = 4  # a fixed repeat {n} up to this is spelled out
_SLASH = ord("/")
_META = set("*?[]{}\\")
_STAR, _STARS = "\x00", "\x01"  # `*` and `**` while building: runs of them merge
_RUN = re.compile("[\x00\x01?]*[\x00\x01][\x00\x01?]*")


class Globs(NamedTuple):
    globs: tuple[str, ...]
    exact: bool


def to_globs(pattern: str) -> Globs:
    """The globs that together match the names `pattern` matches in full."""
    alternatives, exact = _seq(_sre.parse(pattern))
    if len(alternatives) > _MAX_GLOBS:
        alternatives, exact = [_prefix(alternatives) + _STARS], False
    return Globs(_simplest(alternatives), exact)


def _seq(tokens: Any) -> tuple[list[str], bool]:
    out, exact = [""], True
    for op, av in tokens:
        parts, part_exact = _token(str(op), av)
        exact = exact and part_exact
        out = [a + b for a in out for b in parts]
        if len(out) > _MAX_GLOBS * 4:
            return [_prefix(out) + _STARS], False
    return out, exact


def _token(op: str, av: Any) -> tuple[list[str], bool]:
    if op == "LITERAL":
        char = chr(av)
        return ([char], True) if char not in _META else (["?"], False)
    if op in ("AT", "ASSERT", "ASSERT_NOT"):
        return [""], op == "AT"  # anchors say nothing a full match does not; lookarounds do
    if op == "SUBPATTERN":
        return _seq(av[-1])
    if op == "BRANCH":
        out: list[str] = []
        exact = True
        for alternative in av[1]:
            parts, part_exact = _seq(alternative)
            out += parts
            exact = exact and part_exact
        return out, exact
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, sub = av
        parts, sub_exact = _seq(sub)
        if sub_exact and high == low <= _MAX_EXPAND:
            return [p * low for p in parts], True
        if sub_exact and (low, high) == (0, 1):
            return ["", *parts], True
        return [_STARS if _may_match_slash(sub) else _STAR], False
    if op == "IN" and len(av) == 1 and str(av[0][0]) == "LITERAL":
        return _token("LITERAL", av[0][1])
    return [_STARS if _may_match_slash([(op, av)]) else "?"], False


def _may_match_slash(tokens: Any) -> bool:
    for op, av in tokens:
        name = str(op)
        if name in ("ANY", "NOT_LITERAL") and not (name == "NOT_LITERAL" and av == _SLASH):
            return True
        if name == "LITERAL" and av == _SLASH:
            return True
        if name == "IN" and any(_class_item_has_slash(str(o), a) for o, a in av):
            return True
        if name in ("SUBPATTERN", "MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and \
                _may_match_slash(av[-1]):
            return True
        if name == "BRANCH" and any(_may_match_slash(alt) for alt in av[1]):
            return True
    return False


def _class_item_has_slash(op: str, av: Any) -> bool:
    if op == "LITERAL":
        return bool(av == _SLASH)
    if op == "RANGE":
        return bool(av[0] <= _SLASH <= av[1])
    if op == "CATEGORY":
        return "NOT" in str(av)
    return op == "NEGATE"


def _collapse(glob: str) -> str:
    """A run of repetitions and single characters is one `*`, or `**` if any part may
    match `/`."""
    return _RUN.sub(lambda m: "**" if _STARS in m.group() else "*", glob)


def _simplest(globs: list[str]) -> tuple[str, ...]:
    """Distinct globs, dropping any another already covers."""
    unique = list(dict.fromkeys(_collapse(g) for g in globs))
    kept = [g for g in unique
            if not any(o != g and fnmatch.fnmatchcase(g, o) for o in unique)]
    return tuple(kept)


def _prefix(globs: list[str]) -> str:
    prefix = globs[0]
    for glob in globs[1:]:
        while not glob.startswith(prefix):
            prefix = prefix[:-1]
    return re.split("[?\x00\x01]", prefix)[0]
