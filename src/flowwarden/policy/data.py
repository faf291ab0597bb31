"""The `data:` section, typed: what is data, what never is, the size limit, LFS and remotes,
and the gitignore-style globs it is written in.

The defaults live here and nowhere else (the preset does not repeat them); `as_section`
writes the effective section back out for `flowwarden policy show`.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from flowwarden.policy.sections import Where

DEFAULT_PATTERNS = (
    "data/**", "models/**",
    "*.csv", "*.tsv", "*.parquet", "*.feather", "*.arrow", "*.h5", "*.hdf5", "*.npy", "*.npz",
    "*.pkl", "*.pickle", "*.joblib", "*.pt", "*.pth", "*.ckpt", "*.onnx", "*.safetensors",
    "*.tfrecord", "*.zip", "*.tar", "*.tar.gz", "*.tgz", "*.tar.bz2", "*.tar.xz",
)
DEFAULT_EXEMPT = ("*.dvc", "dvc.yaml", "dvc.lock", ".gitignore", ".dvcignore", ".gitkeep",
                  "params.yaml", "README*")
DEFAULT_MAX_SIZE = "1 MiB"
#: Where tests, docs and examples keep small files they need (a 4 KiB CSV fixture, a docs
#: GIF): the patterns do not make them data, only their own, larger size limit does.
DEFAULT_FIXTURES = ("tests/**", "test/**", "**/tests/**", "**/test/**", "**/fixtures/**",
                    "**/testdata/**", "docs/**", "doc/**", "examples/**")
DEFAULT_FIXTURE_MAX_SIZE = "10 MiB"
DEFAULT_LFS = "report"
DEFAULT_UNREACHABLE_REMOTE = "block"
LFS_CHOICES = ("allow", "report", "block")
UNREACHABLE_CHOICES = ("block", "warn")

UNITS = {"": 1, "b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2,
         "gb": 1000**3, "gib": 1024**3}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_EXACT = (("GiB", 1024**3), ("GB", 1000**3), ("MiB", 1024**2), ("MB", 1000**2),
          ("KiB", 1024), ("KB", 1000))


_NOWHERE = Where("policy")


def parse_size(value: object, at: Where = _NOWHERE, key: str = "max_size") -> int | None:
    """`max_size` as bytes: an integer, or a string like "1 MiB"; false disables the limit."""
    if value is False:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    match = _SIZE.match(value) if isinstance(value, str) else None
    size = int(float(match.group(1)) * UNITS.get(match.group(2).lower(), 0)) if match else 0
    if size < 1:
        raise at.error(("data", key), f"expected a size of at least one byte, such "
                       f"as 1048576 or '1 MiB' (units B, KB, KiB, MB, MiB, GB, GiB), or "
                       f"false, got {value!r}")
    return size


_BINARY = (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))
_DECIMAL = (("GB", 1000**3), ("MB", 1000**2), ("KB", 1000))


def human_size(size: int, decimal: bool = False) -> str:
    """A size for messages, to three digits: `12 KiB`, `1.5 MiB`, `512 bytes` (`1.5 MB` in
    decimal units, the ones a policy that writes `2 MB` reads)."""
    for unit, factor in _DECIMAL if decimal else _BINARY:
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


def exact_size(size: int) -> str | int:
    """A size as a policy would write it, without rounding: `1 MiB`, `1 MB`, or bytes."""
    return next((f"{size // factor} {unit}" for unit, factor in _EXACT if size % factor == 0),
                size)


# --- globs: gitignore-style, over repository-relative paths ---------------------------

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


# --- the section ---------------------------------------------------------------------

def _globs(section: Mapping[str, Any], key: str, at: Where) -> tuple[str, ...]:
    value = section.get(key, ())
    if not isinstance(value, list | tuple) or not all(isinstance(g, str) and g for g in value):
        raise at.error(("data", key), f"expected a list of globs, got {value!r}")
    return tuple(value)


def _choice(section: Mapping[str, Any], key: str, default: str, choices: tuple[str, ...],
            at: Where) -> str:
    value = section.get(key, default)
    if value not in choices:
        raise at.error(("data", key), f"expected one of {', '.join(choices)}, got {value!r}")
    return str(value)


class DataPolicy(NamedTuple):
    """The `data:` section with the defaults filled in."""

    data: Matcher
    exempt: Matcher
    max_size: int | None
    lfs: str  # allow | report | block
    remote: str | None
    unreachable_remote: str  # block | warn
    fixtures: Matcher  # small files tests and docs need: judged by fixture_max_size alone
    fixture_max_size: int | None
    max_size_text: str | None = None  # `max_size` as the policy wrote it ("2 MB")
    decimal_sizes: bool = False  # the policy wrote KB/MB/GB: sizes are shown in those units

    @classmethod
    def from_section(cls, section: Mapping[str, Any], at: Where = _NOWHERE) -> DataPolicy:
        """The section as written, defaults filled in; `at` places the error for a malformed
        value (schema validation catches most of them first)."""
        def globs(key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
            return _globs(section, key, at) if key in section else default

        remote = section.get("remote")
        if remote is not None and not (isinstance(remote, str) and remote):
            raise at.error(("data", "remote"),
                           f"expected the name of a DVC remote, got {remote!r}")
        written = section.get("max_size", DEFAULT_MAX_SIZE)
        text = " ".join(written.split()) if isinstance(written, str) else None
        unit = _SIZE.match(text) if text else None
        return cls(
            data=Matcher(globs("patterns", DEFAULT_PATTERNS) + globs("extra_patterns")),
            exempt=Matcher(globs("exempt", DEFAULT_EXEMPT) + globs("extra_exempt")),
            max_size=parse_size(section.get("max_size", DEFAULT_MAX_SIZE), at),
            lfs=_choice(section, "lfs", DEFAULT_LFS, LFS_CHOICES, at),
            remote=remote,
            unreachable_remote=_choice(section, "unreachable_remote",
                                       DEFAULT_UNREACHABLE_REMOTE, UNREACHABLE_CHOICES, at),
            fixtures=Matcher(globs("fixtures", DEFAULT_FIXTURES) + globs("extra_fixtures")),
            fixture_max_size=parse_size(section.get("fixture_max_size",
                                                    DEFAULT_FIXTURE_MAX_SIZE), at,
                                        "fixture_max_size"),
            max_size_text=text,
            decimal_sizes=bool(unit and unit.group(2).lower() in ("kb", "mb", "gb")),
        )

    def as_section(self) -> dict[str, Any]:
        """The effective section as a policy would write it (extras folded into the lists)."""
        section: dict[str, Any] = {
            "patterns": list(self.data.patterns),
            "exempt": list(self.exempt.patterns),
            "max_size": False if self.max_size is None else exact_size(self.max_size),
            "fixtures": list(self.fixtures.patterns),
            "fixture_max_size": (False if self.fixture_max_size is None
                                 else exact_size(self.fixture_max_size)),
            "lfs": self.lfs,
            "unreachable_remote": self.unreachable_remote,
        }
        if self.remote is not None:
            section["remote"] = self.remote
        return section


#: The section a policy without `data:` gets.
DEFAULT_DATA = DataPolicy.from_section({})
