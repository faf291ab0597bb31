"""Property-based fuzzing of what pushers write: policies and commit-message trailers.

Whatever the input, parsing raises nothing but PolicyError, and its work is bounded: checked by
counting what it built (values after alias expansion, nesting depth, trailer pairs), never by
timing."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowwarden.adapters.git.messages import cited_values, misplaced, trailer_block
from flowwarden.core.errors import PolicyError
from flowwarden.policy import yamlmarks
from flowwarden.policy.load import load_policy_file

YAML_PIECES = st.sampled_from([
    "a", "b", "x-", ": ", ":", "\n", "  ", "- ", "[", "]", "{", "}", ", ", "&a ", "&b ", "*a",
    "*b", "<<: ", "!!str ", "!!python/object ", "? ", "'", '"', "#", "|", ">", "---\n",
    "...\n", "9" * 50, "1e999", "0x", "%YAML 1.1\n", "\t", "\\", "\x00", "\u202e", "~",
    "branches", "extends", "gitflow-ml", "pattern", "feature/.*", "(a|a)+", "checks",
    "waivers", "expires", "2027-13-45", "rules", "severity", "off",
])
yaml_text = st.lists(YAML_PIECES, max_size=60).map("".join)


def measure(data: Any, depth: int = 0) -> tuple[int, int]:
    """(values, deepest level) of parsed data, counted without recursion limits mattering:
    the parser refuses anything deeper than MAX_DEPTH."""
    if isinstance(data, dict):
        children = [measure(v, depth + 1) for v in data.values()]
    elif isinstance(data, list):
        children = [measure(v, depth + 1) for v in data]
    else:
        return 1, depth
    return 1 + sum(c[0] for c in children), max([depth, *(c[1] for c in children)])


def parse_bounded(text: str) -> None:
    try:
        doc = yamlmarks.parse(text, "f.yaml")
    except PolicyError:
        return
    values, depth = measure(doc.data)
    assert values <= 2 * yamlmarks.MAX_NODES + 1
    assert depth <= yamlmarks.MAX_DEPTH


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_text)
def test_any_text_parses_or_is_a_policy_error(text: str) -> None:
    parse_bounded(text)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 14), st.integers(1, 14), st.booleans())
def test_alias_fan_out_is_bounded(levels: int, fan: int, merge: bool) -> None:
    """Any alias or merge bomb shape: refused, or small enough to build."""
    if merge:
        lines = ["a0: &a0 {k: 1}"]
        lines += [f"a{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * fan)}], k{i}: 1}}"
                  for i in range(1, levels + 1)]
    else:
        lines = [f"a0: &a0 [{', '.join(['x'] * fan)}]"]
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]"
                  for i in range(1, levels + 1)]
    parse_bounded("\n".join(lines) + "\n")


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(yaml_text)
def test_any_policy_file_loads_or_is_a_policy_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / ".flowwarden.yaml"
    path.write_text("extends: gitflow-ml\n" + text, encoding="utf-8", errors="surrogatepass")
    try:
        load_policy_file(path)
    except PolicyError:
        pass


MESSAGE_PIECES = st.sampled_from([
    "Subject", "\n", "\n\n", "Flowwarden-Waive", "MLflow-Run", ": ", ":", " ", "\t",
    "protected-history", "reason", "# comment\n", "-" * 24 + " >8 " + "-" * 24 + "\n",
    "a" * 40, "-", "Key", "\r", "\u202e", "\x1b",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(MESSAGE_PIECES, max_size=80).map("".join))
def test_trailers_parse_any_message_into_at_most_one_pair_per_line(message: str) -> None:
    pairs = trailer_block(message)
    assert len(pairs) <= message.count("\n") + 1
    assert sum(len(k) + len(v) for k, v in pairs) <= len(message)
    cited_values(message, "Flowwarden-Waive")
    misplaced(message, "MLflow-Run")

