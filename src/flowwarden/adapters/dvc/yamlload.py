"""YAML as DVC's files are read: parsed in time and memory bounded by the text's length.

DVC's files come from pushers. PyYAML's C parser is fast, but its cost grows with the square
of flow nesting and its composer recurses in C (a crash, not an exception): nesting is
counted on the event stream first and refused early, and alias expansion is budgeted.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple


class UnreadableFile(ValueError):
    """A DVC file that is not the YAML DVC writes; str() is the parser's first line, `line`
    (1-based) where it was found when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


#: DVC writes a few levels; deeper is refused before the parser's cost (quadratic in flow
#: nesting) or its C recursion (a crash) can build up.
MAX_DEPTH = 64
#: Values that YAML aliases and `<<` merges may add to what is written: DVC writes none.
MAX_EXPANSION = 20_000
#: Bytes of any DVC file, dvc.lock or params file read (a `.dvc` file has a lower cap, in
#: format.py): what a pusher can make every check read, parse and hold.
MAX_BYTES = 16 * 1024 * 1024
#: Values (scalars, lists, mappings) written in one file: parsing costs ~20 µs each, so this
#: bounds a file at a few seconds; a dvc.lock of thousands of stages stays well under it.
MAX_VALUES = 200_000


class Parsed(NamedTuple):
    """A YAML document's data and the line (1-based) of each value, by key path."""

    data: Any
    lines: Mapping[tuple[Any, ...], int]

    def line(self, path: Sequence[Any]) -> int | None:
        """The line of `path`, or of its nearest parent that has one."""
        path = tuple(path)
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)


def load_yaml(text: bytes) -> Any:
    """A YAML file's data; raises UnreadableFile when it is not YAML or exceeds the limits."""
    return parse_yaml(text).data


@lru_cache(maxsize=8)  # checking a file and reading its outputs parse it once
def parse_yaml(text: bytes) -> Parsed:
    """Parse `text` in time and memory bounded by its length (the result is shared: never
    mutate it). Nesting deeper than MAX_DEPTH, alias loops and aliases that expand by more
    than MAX_EXPANSION values are UnreadableFile."""
    import yaml  # only when a DVC file is actually read

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if len(text) > MAX_BYTES:
        raise UnreadableFile(f"{len(text):,} bytes; DVC files flowwarden reads are at most "
                             f"{MAX_BYTES:,}")
    try:
        written = _scan(yaml, yaml.parse(text, Loader=loader_class))
        loader = loader_class(text)
        try:
            node = loader.get_single_node()
            lines: dict[tuple[Any, ...], int] = {}
            if node is not None:
                _Walk(lines, written).visit(node, ())
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        said = " ".join(str(part) for part in (error.context, error.problem) if part)
        raise UnreadableFile(said or "not YAML",
                             mark.line + 1 if mark else None) from None
    except yaml.YAMLError as error:
        raise UnreadableFile(str(error).splitlines()[0]) from None
    except UnreadableFile:
        raise
    except (ValueError, OverflowError) as error:  # an int of 5,000 digits, a 13th month
        raise UnreadableFile(f"a value YAML cannot read: {str(error)[:80]}") from None
    return Parsed(data, lines)


def _scan(yaml: Any, events: Iterator[Any]) -> int:
    """The values written (not expanded) in a YAML stream, refusing deep nesting early."""
    depth = count = 0
    for event in events:
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise UnreadableFile(f"nested deeper than {MAX_DEPTH} levels; DVC writes a "
                                     "few", event.start_mark.line + 1)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        count += 1
        if count > MAX_VALUES:
            raise UnreadableFile(f"more than {MAX_VALUES:,} YAML values; DVC files hold far "
                                 "fewer", event.start_mark.line + 1)
    return count


class _Walk:
    """Walks a composed document as its data will be, aliases expanded, within a budget of
    values, noting each value's line."""

    def __init__(self, lines: dict[tuple[Any, ...], int], written: int) -> None:
        self.lines = lines
        self.budget = written + MAX_EXPANSION
        self.open: set[int] = set()

    def visit(self, node: Any, path: tuple[Any, ...]) -> None:
        line = node.start_mark.line + 1
        if id(node) in self.open:
            raise UnreadableFile("a YAML alias refers to a value that contains it", line)
        if len(path) > MAX_DEPTH:
            raise UnreadableFile(f"nested deeper than {MAX_DEPTH} levels through YAML "
                                 "aliases", line)
        self.budget -= 1
        if self.budget < 0:
            raise UnreadableFile(f"YAML aliases expand it by more than {MAX_EXPANSION} "
                                 "values; DVC writes none", line)
        self.lines.setdefault(path, line)
        self.open.add(id(node))
        if isinstance(node.value, list):
            for index, item in enumerate(node.value):
                if isinstance(item, tuple):  # a mapping's (key, value)
                    key = item[0].value if not isinstance(item[0].value, list) else index
                    self.visit(item[1], (*path, key))
                else:
                    self.visit(item, (*path, index))
        self.open.discard(id(node))
