"""The CLI keeps its promises: every option has help, every command answers --format json,
`policy validate` reports every error at once, `check --branch` names the kind."""
from __future__ import annotations

import argparse
import json

import pytest

from flowwarden.entry.cli import build_parser
from fwkit import Repo

FOUR_TYPOS = """\
extends: gitflow-ml
branchs:
  x: 1
rules:
  branch-orgin: {severity: warning}
  merge-target: {severity: loud}
data:
  lfs: maybe
"""

DEAD_KINDS = """\
extends: gitflow-ml
branches:
  feature:
    pattern: "(feature|bugfix)/.+"
  bugfix:
    pattern: "bugfix/[a-z0-9-]+"
    from: [develop]
    into: [develop]
  spike:
    pattern: "spike/.+"
    from: [spike]
    into: [develop]
"""


def subparsers(parser: argparse.ArgumentParser, prefix: str = ""
               ) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((prefix + name, sub))
                found += subparsers(sub, prefix + name + " ")
    return found


def test_every_option_of_every_subcommand_is_described() -> None:
    for name, sub in subparsers(build_parser()):
        if not sub.add_help:
            continue  # delegated: the command parses (and documents) its own options
        assert sub.description, name
        for action in sub._actions:
            assert action.help, f"{name}: {action.option_strings or action.dest}"


def test_policy_validate_help_is_its_own(repo: Repo) -> None:
    validate = repo.fw("policy", "validate", "--help").out
    assert "every error" in validate and "--file" in validate
    assert "ACTION" not in validate and validate != repo.fw("policy", "--help").out


def test_policy_validate_reports_every_error_in_line_order(repo: Repo) -> None:
    (repo.path / ".flowwarden.yaml").write_text(FOUR_TYPOS)
    result = repo.fw("policy", "validate")
    assert result.code == 2, result.text
    errors = [line for line in result.out.splitlines() if line.startswith("error:")]
    assert [e.split(":")[2] for e in errors] == ["2", "5", "6", "8"], result.out
    assert "branch-origin" in errors[1] and "'loud'" in errors[2] and "maybe" in errors[3]
    data = json.loads(repo.fw("policy", "validate", "--format", "json").out)
    assert data["valid"] is False
    assert [e["line"] for e in data["errors"]] == [2, 5, 6, 8]


def test_policy_validate_warns_about_kinds_that_can_never_be_used(repo: Repo) -> None:
    (repo.path / ".flowwarden.yaml").write_text(DEAD_KINDS)
    result = repo.fw("policy", "validate")
    assert result.code == 0, result.text
    assert "warning: .flowwarden.yaml:6:14: branches.bugfix.pattern: kind 'bugfix' can never " \
           "match" in result.out and "kind 'feature' first" in result.out
    assert "no branch of kind 'spike' can be created" in result.out
    assert repo.fw("policy", "validate", "--file",
                   str(repo.path / ".flowwarden.yaml")).code == 0
    (repo.path / ".flowwarden.yaml").write_text("extends: gitflow-ml\n")
    assert "warning" not in repo.fw("policy", "validate").out


def test_check_branch_names_the_kind_that_matched(repo: Repo) -> None:
    result = repo.fw("check", "--branch", "release/1.2.0")
    assert result.code == 0 and "(kind release)" in result.out, result.text
    data = json.loads(repo.fw("check", "--branch", "Fix_Stuff", "--format", "json").out)
    assert "(no kind)" in data["operation"] and data["violations"][0]["rule"] == "branch-name"


@pytest.mark.parametrize("argv", [("explain", "merge-target"), ("rules",),
                                  ("policy", "validate"), ("policy", "show"),
                                  ("policy", "schema"), ("check", "--branch", "develop"),
                                  ("install",), ("init",)])
def test_every_command_answers_format_json(repo: Repo, argv: tuple[str, ...]) -> None:
    for args in (("--format", "json", *argv), (*argv, "--format", "json")):
        result = repo.fw(*args)
        assert result.code == 0, result.text
        json.loads(result.out)


@pytest.mark.slow
def test_demo_shows_messages_and_fixes_keeps_its_repository_and_answers_json(
        repo: Repo) -> None:
    result = repo.fw("demo", "--keep", "--format", "json")
    assert result.code == 0, result.text
    data = json.loads(result.out)
    assert data["as_expected"] == data["total"] == 14
    refused = {op["expected"]: op for op in data["operations"] if op["verdict"] == "refused"}
    merge = refused["merge-target"]["messages"][0]
    assert merge.startswith("error: merge-target: feature/train-loop may merge into develop")
    assert "\n  fix: git merge --abort" in merge
    kept = data["repository"]
    assert repo.git("-C", kept, "rev-parse", "--verify", "develop").code == 0
    text = repo.fw("demo").out
    assert "  fix: dvc init" in text and "kept" not in text


@pytest.mark.parametrize("argv", [("audit",), ("policy", "graph"),
                                  ("export", "github-ruleset")])
def test_the_global_format_reaches_commands_with_their_own_options(
        repo: Repo, argv: tuple[str, ...]) -> None:
    result = repo.fw("--format", "json", *argv)
    assert result.code == 0, result.text
    json.loads(result.out)


@pytest.mark.parametrize("module", ["ci", "audit", "policy_test", "export", "graph",
                                    "policy_diff"])
def test_every_option_of_the_commands_with_their_own_parser_is_described(module: str) -> None:
    import importlib

    parser = importlib.import_module(f"flowwarden.entry.{module}").parser()
    assert parser.description, module
    for action in parser._actions:
        assert action.help, f"{module}: {action.option_strings or action.dest}"
