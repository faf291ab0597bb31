"""`policy graph` and `export`: golden files for the preset, escaping, schema validation."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import NamedTuple

import jsonschema
import pytest

from flowwarden.entry.export import github_ruleset
from flowwarden.entry.graph import graph_of, render_dot, render_mermaid
from flowwarden.policy.load import load_policy
from fwkit import PROJECT, Result, run

GOLDEN = Path(__file__).parent / "golden"
SCHEMA = json.loads((Path(__file__).parent / "data" / "github-ruleset.schema.json").read_text())


def fw(tmp_path: Path, env: dict[str, str], *args: str) -> Result:
    return run(["flowwarden", *args], tmp_path, env)


@pytest.mark.parametrize(("args", "golden"), [
    (("policy", "graph"), "gitflow-ml.mmd"),
    (("policy", "graph", "--format", "dot"), "gitflow-ml.dot"),
    (("export", "github-ruleset"), "gitflow-ml.github-ruleset.json"),
    (("export", "github-ruleset", "--names"), "gitflow-ml.github-names.json"),
    (("export", "gitlab"), "gitflow-ml.gitlab.json"),
])
def test_the_preset_matches_its_golden_file(
        tmp_path: Path, env: dict[str, str], args: tuple[str, ...], golden: str) -> None:
    result = fw(tmp_path, env, *args)
    assert result.code == 0, result.text
    if os.environ.get("FLOWWARDEN_UPDATE_GOLDEN"):  # after a deliberate change of the preset
        (GOLDEN / golden).write_text(result.out)
    assert result.out == (GOLDEN / golden).read_text()


def test_the_readme_shows_the_preset_s_picture() -> None:
    readme = (PROJECT / "README.md").read_text()
    assert "```mermaid\n" + (GOLDEN / "gitflow-ml.mmd").read_text() + "```" in readme


def test_the_graph_marks_protected_kinds_and_both_edge_kinds() -> None:
    mermaid = (GOLDEN / "gitflow-ml.mmd").read_text()
    assert "class k_main,k_develop protected" in mermaid
    assert "k_feature -->|into| k_develop" in mermaid
    assert "k_develop -.->|from| k_feature" in mermaid
    dot = (GOLDEN / "gitflow-ml.dot").read_text()
    assert 'k_develop -> k_feature [label="from", style=dashed];' in dot


HOSTILE = """\
branches:
  a-b: {pattern: 'x"y<z>#1', protected: true}
  a_b: {pattern: 'p\\\\q"r', from: [a-b], into: [a-b]}
"""


def test_labels_are_escaped_and_ids_are_safe(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "p.yaml").write_text(HOSTILE)
    mermaid = fw(tmp_path, env, "policy", "graph", "--policy", "p.yaml").out
    assert 'k_a_b["a-b<br/>x#quot;y#lt;z#gt;#35;1<br/>protected' in mermaid
    assert "k_a_b_2 -->|into| k_a_b" in mermaid
    dot = fw(tmp_path, env, "policy", "graph", "--policy", "p.yaml", "--format", "dot").out
    assert 'k_a_b [label="a-b\\nx\\"y<z>#1\\nprotected' in dot
    assert 'k_a_b_2 [label="a_b\\np\\\\\\\\q\\"r"];' in dot
    for line in mermaid.splitlines()[2:] + dot.splitlines()[4:-1]:
        ident = re.split(r"[\s\[]", line.strip())[0]
        assert re.fullmatch(r"k_[A-Za-z0-9_]+|classDef|class", ident), line


class KindWithMethods(NamedTuple):
    """A branch kind as the policy model will carry merge methods."""

    name: str
    pattern: str
    protected: bool
    origins: tuple[str, ...]
    into: tuple[str, ...]
    merge_methods: tuple[str, ...]
    frozen: bool = False


def test_merge_methods_are_drawn_and_exported_when_the_policy_has_them() -> None:
    preset = load_policy(None)
    kinds = tuple(KindWithMethods(k.name, k.pattern, k.protected, k.origins, k.into,
                                  ("merge",) if k.name == "main" else ("merge", "squash"))
                  for k in preset.kinds)
    policy = preset._replace(kinds=kinds)
    assert 'k_main["main<br/>main|master<br/>protected<br/>merges: merge"]' in \
        render_mermaid(graph_of(policy), "p")  # type: ignore[arg-type]
    assert "merges: merge, squash" in render_dot(graph_of(policy), "p")  # type: ignore[arg-type]
    export = github_ruleset(policy, False, "active", "flowwarden")  # type: ignore[arg-type]
    rule = next(r for r in export.document["rules"] if r["type"] == "pull_request")
    assert rule["parameters"]["allowed_merge_methods"] == ["merge"]
    assert any("different merge methods" in note for note in export.notes)
    jsonschema.validate(export.document, SCHEMA, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("golden", ["gitflow-ml.github-ruleset.json",
                                    "gitflow-ml.github-names.json"])
def test_the_github_rulesets_validate_against_the_api_schema(golden: str) -> None:
    document = json.loads((GOLDEN / golden).read_text())
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_the_schema_catches_a_misspelt_rule() -> None:
    document = json.loads((GOLDEN / "gitflow-ml.github-ruleset.json").read_text())
    document["rules"].append({"type": "non_fast_forwards"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_export_says_where_a_pattern_is_not_a_glob(tmp_path: Path, env: dict[str, str]) -> None:
    result = fw(tmp_path, env, "export", "github-ruleset", "--names")
    assert "note: revert: the pattern" in result.err and "revert-*-**" in result.err
    assert "note: develop" not in result.err
    json.loads(result.out)


def test_gitlab_push_rule_matches_the_kinds(tmp_path: Path, env: dict[str, str]) -> None:
    settings = json.loads(fw(tmp_path, env, "export", "gitlab").out)
    regex = re.compile(settings["push_rule"]["branch_name_regex"])
    assert regex.search("feature/login") and regex.search("release/1.2.0")
    assert not regex.search("Login-Fix") and not regex.search("xfeature/login")
    assert {b["name"] for b in settings["protected_branches"]} == {"main", "master", "develop"}
    assert all(not b["allow_force_push"] and b["push_access_level"] == 0
               for b in settings["protected_branches"])


def test_export_of_an_unknown_kind_is_a_usage_error(tmp_path: Path, env: dict[str, str]) -> None:
    result = fw(tmp_path, env, "export", "github-ruleset", "--kind", "mian")
    assert result.code == 2 and "--kind mian: the policy has no such branch kind" in result.err
