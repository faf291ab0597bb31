"""YAML parsing that remembers where every key and value was written.

Policies on unprotected branches come from pushers, so parsing is bounded: nesting deeper than
MAX_DEPTH and documents that expand (through aliases and `<<` merges) to more than MAX_NODES
nodes are policy errors, found before the expansion is built.
"""
from __future__ import annotations

from typing import Any

import yaml

from flowwarden.core.errors import PolicyError

Path = tuple[object, ...]
Mark = tuple[int, int]  # 1-based line, column
MAX_DEPTH = 64  # a real policy nests about six levels
MAX_NODES = 20_000  # nodes after alias expansion; a real policy has a few hundred


class Located:
    """A parsed document plus the position of each key and value, by key path."""

    def __init__(self, name: str, data: Any, keys: dict[Path, Mark],
                 values: dict[Path, Mark]) -> None:
        self.name = name
        self.data = data
        self.keys = keys
        self.values = values

    def where(self, path: Path, prefer_key: bool = False) -> Mark | None:
        """The closest known position for `path`, walking up to its parents."""
        path = tuple(path)
        while True:
            table = (self.keys, self.values) if prefer_key else (self.values, self.keys)
            for marks in table:
                if path in marks:
                    return marks[path]
            if not path:
                return None
            path = path[:-1]

    def error(self, path: Path, message: str, prefer_key: bool = False) -> PolicyError:
        line, column = self.where(path, prefer_key) or (1, 1)
        return PolicyError(self.name, line, column, path, message)


def _mark(node: yaml.Node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Loader(yaml.SafeLoader):
    """A SafeLoader whose composer refuses to nest deeper than MAX_DEPTH."""

    def __init__(self, text: str, name: str) -> None:
        super().__init__(text)
        self.name = name
        self.depth = 0

    def fetch_flow_collection_start(self, token_class: type[yaml.Token]) -> None:
        # The scanner's cost grows with the flow nesting it holds: stop before it builds up.
        if self.flow_level >= MAX_DEPTH:
            mark = self.get_mark()
            raise PolicyError(self.name, mark.line + 1, mark.column + 1, (),
                              f"nested deeper than {MAX_DEPTH} levels; a policy needs a few")
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise PolicyError(self.name, mark.line + 1, mark.column + 1, (),
                              f"nested deeper than {MAX_DEPTH} levels; a policy needs a few")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Budget:
    """Counts the nodes a document expands to, through aliases and merges."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.spent = 0
        self.merged: dict[int, int] = {}  # id(mapping node) -> its size after `<<` merges

    def spend(self, count: int, node: yaml.Node, path: Path) -> None:
        self.spent += count
        if self.spent > MAX_NODES:
            raise PolicyError(self.name, *_mark(node), path,
                              f"more than {MAX_NODES} values once aliases and merges are "
                              "expanded; a policy needs a few hundred (an alias bomb?)")

    def flat_size(self, node: yaml.MappingNode, path: Path, depth: int = 0) -> int:
        """The entries `node` has once its `<<` merges are flattened, without flattening."""
        if id(node) in self.merged:
            size = self.merged[id(node)]
            if size < 0:
                raise PolicyError(self.name, *_mark(node), path,
                                  "a merge refers to a mapping that contains it (a loop)")
            return size
        if depth >= MAX_DEPTH:
            raise PolicyError(self.name, *_mark(node), path,
                              f"merges chained deeper than {MAX_DEPTH} levels")
        self.merged[id(node)] = -1
        size = 0
        for key, value in node.value:
            if key.tag != "tag:yaml.org,2002:merge":
                size += 1
            elif isinstance(value, yaml.MappingNode):
                size += self.flat_size(value, path, depth + 1)
            elif isinstance(value, yaml.SequenceNode):
                size += sum(self.flat_size(v, path, depth + 1) for v in value.value
                            if isinstance(v, yaml.MappingNode))
            if size > MAX_NODES:
                self.spend(size, node, path)
        self.merged[id(node)] = size
        return size


def parse(text: str, name: str) -> Located:
    try:
        loader = _Loader(text, name)
    except yaml.reader.ReaderError as exc:  # refused characters, found before parsing starts
        before = text[:exc.position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        raise PolicyError(name, line, column, (), f"invalid YAML: {exc.reason} "
                          f"(character {exc.character!r})") from None
    keys: dict[Path, Mark] = {}
    values: dict[Path, Mark] = {}
    open_nodes: set[int] = set()  # the nodes being converted: an alias back to one is a loop
    budget = _Budget(name)

    def convert(node: yaml.Node, path: Path) -> Any:
        values[path] = _mark(node)
        if id(node) in open_nodes:
            raise PolicyError(name, *_mark(node), path,
                              "an alias refers to a node that contains it (a loop)")
        budget.spend(1, node, path)
        if len(path) >= MAX_DEPTH:
            raise PolicyError(name, *_mark(node), path,
                              f"nested deeper than {MAX_DEPTH} levels through aliases")
        open_nodes.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return convert_mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return [convert(item, path + (i,)) for i, item in enumerate(node.value)]
            if node.tag == "tag:yaml.org,2002:timestamp":  # keep dates as written: JSON data
                return node.value
            return scalar(node, path)
        finally:
            open_nodes.discard(id(node))

    def scalar(node: yaml.Node, path: Path) -> Any:
        try:
            return loader.construct_object(node)
        except (ValueError, OverflowError) as exc:  # an int of 5,000 digits, say
            raise PolicyError(name, *_mark(node), path, f"invalid value: {exc}") from None

    def convert_mapping(node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        own = len([k for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"])
        budget.spend(budget.flat_size(node, path), node, path)
        loader.flatten_mapping(node)  # `<<: *anchor` merges come first; own keys win
        merged = len(node.value) - own
        out: dict[str, Any] = {}
        from_merge: set[str] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode):
                raise PolicyError(name, *_mark(key_node), path,
                                  f"keys must be strings, got a {key_node.id}")
            key = scalar(key_node, path)
            if not isinstance(key, str):
                raise PolicyError(name, *_mark(key_node), path,
                                  f"keys must be strings, got {key!r}")
            if key in out and key not in from_merge:
                raise PolicyError(name, *_mark(key_node), path + (key,),
                                  "duplicate key (the later one would silently win)")
            (from_merge.add if index < merged else from_merge.discard)(key)
            keys[path + (key,)] = _mark(key_node)
            out[key] = convert(value_node, path + (key,))
        return out

    try:
        node = loader.get_single_node()
        data = {} if node is None else convert(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise PolicyError(name, line, col, (), f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(name, 1, 1, (), f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return Located(name, data, keys, values)
