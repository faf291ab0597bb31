"""Gitignore-style globs over repository-relative paths, as the `data:` section writes them."""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple


def glob_regex(pattern: str) -> str:
    """A gitignore-style glob as a regex over repo-relative paths.

    A pattern without an inner slash matches at any depth; `**` crosses directories;
    a match on a directory covers everything under it.
    """
    anchored = "/" in pattern.rstrip("/")
    body = pattern.lstrip("/")
    if body.endswith("/"):
        body += "**"
    out = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "[" and "]" in body[i + 2:]:
            end = body.index("]", i + 2)
            inner = body[i + 1:end]
            out.append("[" + ("^" + inner[1:] if inner.startswith("!") else inner) + "]")
            i = end + 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    return ("" if anchored else "(?:.*/)?") + "".join(out) + "(?:/.*)?"


_WILD = frozenset("*?[")


class _Shape(NamedTuple):
    """A glob of a common shape, tested with plain string operations on a path's lower-cased
    components; equal to `glob_regex(pattern)` for that shape."""

    kind: str  # suffix (`*.csv`), prefix (`README*`), name (`dvc.lock`), under (`data/**`)
    text: str | tuple[str, ...]


def _shape(pattern: str) -> _Shape | None:
    p = pattern.lower()
    if "/" not in p:
        rest = p[1:] if p.startswith("*") else p
        head = rest[:-1] if rest.endswith("*") else rest
        if _WILD & set(head) or (p.startswith("*") and rest.endswith("*")):
            return None
        if p.startswith("*"):
            return _Shape("suffix", head)
        return _Shape("prefix", head) if rest.endswith("*") else _Shape("name", head)
    if p.endswith("/**") and not p.startswith("/") and not _WILD & set(p[:-3]):
        return _Shape("under", tuple(p[:-3].split("/")))
    return None


def _shape_matches(shape: _Shape, parts: list[str]) -> bool:
    if shape.kind == "under":
        prefix = list(shape.text)
        return len(parts) > len(prefix) and parts[:len(prefix)] == prefix
    text = str(shape.text)
    if shape.kind == "suffix":
        return any(c.endswith(text) for c in parts)
    if shape.kind == "prefix":
        return any(c.startswith(text) for c in parts)
    return text in parts


class _Plan(NamedTuple):
    """A Matcher's patterns sorted by shape, for tests with plain string operations."""

    shapes: dict[str, _Shape | None]
    suffixes: tuple[str, ...]
    prefixes: tuple[str, ...]
    names: frozenset[str]
    under: frozenset[str]
    complex: tuple[str, ...]

    @classmethod
    def of(cls, patterns: Sequence[str]) -> _Plan:
        shapes = {p: _shape(p) for p in patterns}
        simple = [s for s in shapes.values() if s is not None]
        return cls(shapes,
                   tuple(str(s.text) for s in simple if s.kind == "suffix"),
                   tuple(str(s.text) for s in simple if s.kind == "prefix"),
                   frozenset(str(s.text) for s in simple if s.kind == "name"),
                   frozenset(s.text[0] for s in simple if s.kind == "under"),
                   tuple(p for p, s in shapes.items() if s is None))

    def maybe_simple(self, parts: list[str]) -> bool:
        """A cheap test that no common-shape pattern can match `parts`."""
        return (parts[0] in self.under or not self.names.isdisjoint(parts)
                or any(c.endswith(self.suffixes) or c.startswith(self.prefixes)
                       for c in parts))


class Matcher:
    """A list of globs; `first` names the pattern that matched. Common shapes are tested
    together as plain strings (compiling two dozen globs into a regex would cost milliseconds
    on every commit), the rest with one regex; both are prepared on first use, so a policy
    that is loaded but never asks about paths pays nothing."""

    __slots__ = ("patterns", "_plan", "_regex")

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self._plan: _Plan | None = None
        self._regex: re.Pattern[str] | None = None

    def first(self, path: str) -> str | None:
        if self._plan is None:
            self._plan = _Plan.of(self.patterns)
        plan = self._plan
        parts = path.lower().split("/")
        if plan.maybe_simple(parts):
            for pattern, shape in plan.shapes.items():
                if shape is not None and _shape_matches(shape, parts):
                    return pattern
        if not plan.complex:
            return None
        if self._regex is None:
            self._regex = re.compile("|".join(f"(?:{glob_regex(p)})" for p in plan.complex),
                                     re.I)
        if self._regex.fullmatch(path) is None:
            return None
        return next(p for p in plan.complex if re.fullmatch(glob_regex(p), path, re.I))
