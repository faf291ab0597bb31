"""`flowwarden policy graph`: the flow as a picture, in Mermaid or Graphviz DOT.

Kinds are nodes (protected ones drawn bold); `into` edges are solid, `from` edges dashed and
drawn from the origin to the kind that starts there. Node ids are made from kind names for
both syntaxes, and every label is escaped for its medium.
"""
from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple, TextIO

from flowwarden.core.errors import Exit
from flowwarden.entry.boundary import parse
from flowwarden.entry.policy_test import policy_for
from flowwarden.policy.model import BranchKind, Policy


class Node(NamedTuple):
    id: str
    name: str
    pattern: str
    protected: bool
    merge_methods: tuple[str, ...]  # empty: the policy says nothing about merge methods
    frozen: bool


class Edge(NamedTuple):
    source: str  # node ids
    target: str
    kind: str  # "into" or "from"


class Graph(NamedTuple):
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def merge_methods(kind: BranchKind) -> tuple[str, ...]:
    """The merge methods a protected kind accepts (other kinds take no merges to judge)."""
    return kind.merge_methods if kind.protected else ()


def graph_of(policy: Policy) -> Graph:
    ids: dict[str, str] = {}
    for kind in policy.kinds:
        base = "k_" + re.sub(r"[^A-Za-z0-9_]", "_", kind.name)
        node_id, n = base, 1
        while node_id in ids.values():
            n += 1
            node_id = f"{base}_{n}"
        ids[kind.name] = node_id
    nodes = tuple(Node(ids[k.name], k.name, k.pattern, k.protected, merge_methods(k),
                       bool(getattr(k, "frozen", False))) for k in policy.kinds)
    edges = [Edge(ids[k.name], ids[t], "into") for k in policy.kinds for t in k.into if t in ids]
    edges += [Edge(ids[o], ids[k.name], "from") for k in policy.kinds for o in k.origins
              if o in ids]
    return Graph(nodes, tuple(edges))


def _lines(node: Node) -> list[str]:
    lines = [node.name, node.pattern]
    marks = [m for m, on in (("protected", node.protected), ("frozen", node.frozen)) if on]
    if marks:
        lines.append(", ".join(marks))
    if node.merge_methods:
        lines.append("merges: " + ", ".join(node.merge_methods))
    return lines


def mermaid_text(value: str) -> str:
    """Text inside a quoted Mermaid label: entity codes for what Mermaid would read."""
    value = value.replace("#", "#35;")
    for char, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"),
                       ("`", "#96;")):
        value = value.replace(char, code)
    return "".join(c if c.isprintable() else f"#{ord(c)};" for c in value)


def render_mermaid(graph: Graph, source: str) -> str:
    out = ["flowchart LR", f"  %% flowwarden policy graph of {mermaid_text(source)}"]
    for node in graph.nodes:
        label = "<br/>".join(mermaid_text(line) for line in _lines(node))
        out.append(f'  {node.id}["{label}"]')
    for edge in graph.edges:
        arrow = "-->|into|" if edge.kind == "into" else "-.->|from|"
        out.append(f"  {edge.source} {arrow} {edge.target}")
    protected = [n.id for n in graph.nodes if n.protected]
    out.append("  classDef protected stroke:#b91c1c,stroke-width:3px,font-weight:bold")
    if protected:
        out.append(f"  class {','.join(protected)} protected")
    return "\n".join(out) + "\n"


def _dot_text(value: str) -> str:
    value = value.replace("\\", "\\\\").replace('"', '\\"')
    return "".join(c if c.isprintable() else f"\\\\x{ord(c):02x}" for c in value)


def render_dot(graph: Graph, source: str) -> str:
    out = ["digraph flowwarden {", f'  label="flowwarden policy graph of {_dot_text(source)}";',
           "  rankdir=LR;", '  node [shape=box, style=rounded, fontname="sans-serif"];']
    for node in graph.nodes:
        label = "\\n".join(_dot_text(line) for line in _lines(node))
        style = ', style="rounded,bold", penwidth=3, color="#b91c1c"' if node.protected else ""
        out.append(f'  {node.id} [label="{label}"{style}];')
    for edge in graph.edges:
        style = "" if edge.kind == "into" else ", style=dashed"
        out.append(f'  {edge.source} -> {edge.target} [label="{edge.kind}"{style}];')
    out.append("}")
    return "\n".join(out) + "\n"


def render_json(graph: Graph, source: str) -> str:
    return json.dumps({
        "policy": source,
        "nodes": [n._asdict() for n in graph.nodes],
        "edges": [{"from": e.source, "to": e.target, "kind": e.kind} for e in graph.edges],
    }, indent=2) + "\n"


RENDERERS = {"mermaid": render_mermaid, "dot": render_dot, "json": render_json}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="flowwarden policy graph",
        description="Draw the policy's branch kinds and the merges between them.")
    p.add_argument("--format", choices=tuple(RENDERERS), default="mermaid",
                   help="mermaid (default) or dot to draw, json for the graph as data")
    p.add_argument("--policy", "--file", dest="policy", metavar="FILE",
                   help="policy to draw (default: the repository's .flowwarden.yaml, or the "
                        "gitflow-ml preset)")
    return p


def run(argv: Sequence[str], env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    args = parse(parser(), argv)
    policy = policy_for(args.policy)
    out.write(RENDERERS[args.format](graph_of(policy), policy.source))
    return Exit.OK
