"""The package's modules as the tests see them: names, files and the imports each one makes."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fwkit import SRC

PACKAGE = "flowwarden"
ROOT = SRC / PACKAGE


def module_files() -> dict[str, Path]:
    """Every module under src/flowwarden, by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


@dataclass(frozen=True)
class Edge:
    """`source` imports `target` at `line` (`lazy` when inside a function)."""

    source: str
    target: str
    line: int
    lazy: bool

    def __str__(self) -> str:
        where = " (inside a function)" if self.lazy else ""
        return f"{self.source} -> {self.target}  [line {self.line}{where}]"


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool,
              known: set[str]) -> Iterator[str]:
    """The package modules one import statement names."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    if node.level:
        base = module.split(".")
        if not is_package:
            base.pop()
        base = base[:len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    for alias in node.names:
        candidate = f"{prefix}.{alias.name}"
        yield candidate if candidate in known else prefix


def _nearest_module(name: str, known: set[str]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_edges() -> list[Edge]:
    """Every import between modules of the package: top level, inside functions, and under
    `if TYPE_CHECKING:` alike."""
    files = module_files()
    known = set(files)
    edges: dict[tuple[str, str, int], Edge] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        lazy_lines = {n.lineno for fn in ast.walk(tree)
                      if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                      for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _imported(node, module, is_package, known):
                if not name.startswith(PACKAGE):
                    continue
                target = _nearest_module(name, known)
                if target and target != module:
                    edges[module, target, node.lineno] = Edge(module, target, node.lineno,
                                                              node.lineno in lazy_lines)
    return list(edges.values())
