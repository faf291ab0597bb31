"""YAML parsing that remembers where every key and value was written."""
from __future__ import annotations

from typing import Any

import yaml

from flowwarden.core.errors import PolicyError

Path = tuple[object, ...]
Mark = tuple[int, int]  # 1-based line, column


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


def parse(text: str, name: str) -> Located:
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # refused characters, found before parsing starts
        before = text[:exc.position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        raise PolicyError(name, line, column, (), f"invalid YAML: {exc.reason} "
                          f"(character {exc.character!r})") from None
    keys: dict[Path, Mark] = {}
    values: dict[Path, Mark] = {}
    open_nodes: set[int] = set()  # the nodes being converted: an alias back to one is a loop

    def convert(node: yaml.Node, path: Path) -> Any:
        values[path] = _mark(node)
        if id(node) in open_nodes:
            raise PolicyError(name, *_mark(node), path,
                              "an alias refers to a node that contains it (a loop)")
        open_nodes.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return convert_mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return [convert(item, path + (i,)) for i, item in enumerate(node.value)]
            if node.tag == "tag:yaml.org,2002:timestamp":  # keep dates as written: JSON data
                return node.value
            return loader.construct_object(node)
        finally:
            open_nodes.discard(id(node))

    def convert_mapping(node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        own = len([k for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"])
        loader.flatten_mapping(node)  # `<<: *anchor` merges come first; own keys win
        merged = len(node.value) - own
        out: dict[str, Any] = {}
        from_merge: set[str] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            key = loader.construct_object(key_node)
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
