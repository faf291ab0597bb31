"""Layers import only downward, and no modules import each other in a circle (issue 8).

core < adapters < policy < facts < rules < engine < entry; report sits beside them and
imports only core. Imports inside functions and under TYPE_CHECKING count like any other."""
from __future__ import annotations

from srcmap import PACKAGE, Edge, import_edges, module_files

LAYERS = {"core": 0, "adapters": 1, "policy": 2, "facts": 3, "rules": 4, "engine": 5,
          "entry": 6}
REPORT = "report"
#: Modules that sit at the top of the package rather than in a layer folder.
TOP = {PACKAGE: "core", f"{PACKAGE}.__main__": "entry"}


def layer_of(module: str) -> str:
    if module in TOP:
        return TOP[module]
    folder = module.split(".")[1]
    assert folder in LAYERS or folder == REPORT, f"{module} is in no layer"
    return folder


def allowed(edge: Edge) -> bool:
    source, target = layer_of(edge.source), layer_of(edge.target)
    if source == REPORT:
        return target in (REPORT, "core")
    if target == REPORT:
        return source in (REPORT, "entry")
    return LAYERS[target] <= LAYERS[source]


def strongly_connected(nodes: set[str], edges: list[Edge]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the components of more than one module."""
    graph: dict[str, set[str]] = {n: set() for n in nodes}
    for e in edges:
        graph[e.source].add(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_module_is_in_a_layer() -> None:
    for module in module_files():
        layer_of(module)


def test_no_import_goes_up_a_layer() -> None:
    upward = [e for e in import_edges() if not allowed(e)]
    assert not upward, (
        "imports that go up a layer (core < adapters < policy < facts < rules < engine < entry;"
        " report imports only core):\n  "
        + "\n  ".join(f"{e}  ({layer_of(e.source)} -> {layer_of(e.target)})" for e in upward))


def test_no_import_cycle() -> None:
    edges = import_edges()
    cycles = strongly_connected(set(module_files()), edges)
    lines = []
    for component in cycles:
        members = set(component)
        lines.append("cycle: " + ", ".join(component))
        lines += [f"    {e}" for e in edges if e.source in members and e.target in members]
    assert not cycles, "modules that import each other in a circle:\n" + "\n".join(lines)


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above passes only if this finder works: a -> b -> c -> a, d alone."""
    edges = [Edge("a", "b", 1, False), Edge("b", "c", 1, True), Edge("c", "a", 1, False),
             Edge("c", "d", 1, False)]
    assert strongly_connected({"a", "b", "c", "d"}, edges) == [["a", "b", "c"]]


def test_imports_inside_functions_and_relative_imports_are_seen() -> None:
    edges = import_edges()
    assert any(e.lazy for e in edges), "no import inside a function found: the walk is broken"
    engine = {e.target for e in edges if e.source == f"{PACKAGE}.engine.evaluate"}
    assert f"{PACKAGE}.rules" in engine, engine
