"""The CLI a user types: check, rules, explain, policy, install, demo, formats and colours."""
from __future__ import annotations

import json
import os
import stat

import pytest
from corekit import CORE_RULES, TRACEBACK, assert_blocked, assert_passes, quiet

from fwkit import Repo


@pytest.mark.parametrize("branch", ["feature/login", "experiment/lr-sweep", "release/1.0.0",
                                    "hotfix/crash", "develop", "main", "master"])
def test_check_branch_accepts_the_preset_names(repo: Repo, branch: str) -> None:
    assert_passes(repo.fw("check", "--branch", branch))


@pytest.mark.parametrize("branch", ["Feature/Login", "feature/", "fix/typo", "release/one",
                                    "feature_login"])
def test_check_branch_refuses_illegal_names(repo: Repo, branch: str) -> None:
    result = repo.fw("check", "--branch", branch)
    assert result.code == 1, result.text
    assert "branch-name" in result.text and branch in result.text
    assert TRACEBACK not in result.text


@pytest.mark.parametrize(("source", "target"), [
    ("feature/x", "develop"), ("experiment/e1", "develop"), ("release/1.0.0", "main"),
    ("release/1.0.0", "develop"), ("hotfix/crash", "main"), ("hotfix/crash", "develop"),
])
def test_check_merge_allows_the_seed_flow(repo: Repo, source: str, target: str) -> None:
    assert_passes(repo.fw("check", "--merge", source, "--into", target))


@pytest.mark.parametrize(("source", "target"), [
    ("feature/x", "main"), ("experiment/e1", "main"), ("develop", "main"),
    ("feature/x", "release/1.0.0"), ("origin/feature/x", "main"),
])
def test_check_merge_refuses_the_rest(repo: Repo, source: str, target: str) -> None:
    result = repo.fw("check", "--merge", source, "--into", target)
    assert result.code == 1, result.text
    assert "merge-target" in result.text and "fix:" in result.text
    assert TRACEBACK not in result.text


def test_json_format_lists_violations_with_their_fields(repo: Repo) -> None:
    result = repo.fw("--format", "json", "check", "--merge", "feature/x", "--into", "main")
    assert result.code == 1, result.text
    document = json.loads(result.out)
    [violation] = [v for v in document["violations"] if v["rule"] == "merge-target"]
    assert set(violation) >= {"rule", "severity", "subject", "message", "fix", "waived_by"}
    assert violation["severity"] == "error" and violation["waived_by"] is None
    assert "feature/x" in violation["subject"] + violation["message"]


def test_json_format_of_a_pass_is_an_empty_list(repo: Repo) -> None:
    result = repo.fw("--format", "json", "check", "--branch", "feature/ok")
    assert result.code == 0, result.text
    assert json.loads(result.out)["violations"] == []


def test_json_format_shows_a_skip_as_waived(repo: Repo) -> None:
    result = repo.fw("--format", "json", "check", "--merge", "feature/x", "--into", "main",
                     env={"FLOWWARDEN_SKIP": "merge-target"})
    assert result.code == 0, result.text
    [violation] = [v for v in json.loads(result.out)["violations"]
                   if v["rule"] == "merge-target"]
    assert violation["waived_by"]


def test_color_always_uses_ansi_and_never_does_not(repo: Repo) -> None:
    env = {k: v for k, v in repo.env.items() if k != "NO_COLOR"}
    args = ("check", "--branch", "Bad_Name")
    always = repo.fw("--color", "always", *args, env=env)
    never = repo.fw("--color", "never", *args, env=env)
    assert always.code == never.code == 1
    assert "\x1b[" in always.text
    assert "\x1b[" not in never.text and "branch-name" in never.text


def test_color_auto_honours_no_color_and_pipes(repo: Repo) -> None:
    result = repo.fw("--color", "auto", "check", "--branch", "Bad_Name")
    assert result.code == 1 and "\x1b[" not in result.text


def test_rules_lists_every_core_rule_with_a_summary(repo: Repo) -> None:
    result = repo.fw("rules")
    assert result.code == 0, result.text
    lines = result.out.splitlines()
    for rule in CORE_RULES:
        [line] = [ln for ln in lines if rule in ln.split()]
        assert len(line.split()) > 2, f"{rule} has no summary: {line!r}"


@pytest.mark.parametrize("rule", CORE_RULES)
def test_explain_documents_each_rule(repo: Repo, rule: str) -> None:
    result = repo.fw("explain", rule)
    assert result.code == 0, result.text
    assert rule in result.out
    assert "fix" in result.out.lower() and "example" in result.out.lower()


def test_explain_an_unknown_rule_suggests_the_nearest(repo: Repo) -> None:
    result = repo.fw("explain", "merge-targt")
    assert result.code == 2, result.text
    assert "did you mean" in result.text.lower() and "merge-target" in result.text
    assert TRACEBACK not in result.text


@pytest.mark.parametrize("args", [["hook", "no-such-stage"], ["check"], ["no-such-command"],
                                  ["--format", "xml", "rules"], ["--color", "rainbow", "rules"]])
def test_usage_errors_exit_2(repo: Repo, args: list[str]) -> None:
    result = repo.fw(*args)
    assert result.code == 2, result.text
    assert TRACEBACK not in result.text


def test_policy_validate_accepts_the_preset_and_a_good_file(repo: Repo) -> None:
    assert repo.fw("policy", "validate").code == 0
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\nrules:\n  branch-origin: "
                                   "{severity: warning}\n")
    result = repo.fw("policy", "validate")
    assert result.code == 0, result.text


def test_policy_show_prints_the_effective_policy(repo: Repo) -> None:
    repo.write(".flowwarden.yaml", (
        "extends: gitflow-ml\n"
        "branches:\n"
        "  bugfix:\n"
        "    pattern: \"bugfix/[a-z0-9._-]+\"\n"
        "    from: [develop]\n"
        "    into: [develop]\n"
        "  main:\n"
        "    protected: true\n"))
    result = repo.fw("policy", "show")
    assert result.code == 0, result.text
    for word in ("bugfix", "feature", "hotfix", "release", "protected"):
        assert word in result.out, word


def test_policy_schema_is_json_for_editors(repo: Repo) -> None:
    result = repo.fw("policy", "schema")
    assert result.code == 0, result.text
    schema = json.loads(result.out)
    assert "branches" in schema["properties"] and "rules" in schema["properties"]


def test_check_uses_the_repository_policy(repo: Repo) -> None:
    repo.write(".flowwarden.yaml", (
        "extends: gitflow-ml\n"
        "branches:\n"
        "  bugfix:\n"
        "    pattern: \"bugfix/[a-z0-9._-]+\"\n"
        "    from: [develop]\n"
        "    into: [develop]\n"))
    assert_passes(repo.fw("check", "--branch", "bugfix/typo"))
    assert_passes(repo.fw("check", "--merge", "bugfix/typo", "--into", "develop"))
    assert repo.fw("check", "--merge", "bugfix/typo", "--into", "main").code == 1


def test_install_puts_shims_in_and_chains_an_existing_hook(repo: Repo) -> None:
    hooks = repo.path / ".git" / "hooks"
    marker = repo.path / ".git" / "chained-ran"
    existing = hooks / "pre-commit"
    existing.write_text(f"#!/bin/sh\necho ran >> '{marker}'\nexit 0\n")
    existing.chmod(existing.stat().st_mode | stat.S_IXUSR)
    result = repo.fw("install")
    assert result.code == 0, result.text
    for stage in ("pre-commit", "pre-merge-commit", "pre-push", "post-checkout", "commit-msg"):
        assert os.access(hooks / stage, os.X_OK), stage
    quiet(repo, "switch", "-q", "-c", "feature/x", "develop")
    assert_passes(repo.commit_file("a.txt"))
    assert marker.read_text().count("ran") == 1
    repo.git("switch", "-q", "develop")
    assert_blocked(repo.commit_file("b.txt"), "protected-branch")


def test_install_twice_does_not_chain_to_itself(repo: Repo) -> None:
    assert repo.fw("install").code == 0
    assert repo.fw("install").code == 0
    quiet(repo, "switch", "-q", "-c", "feature/x", "develop")
    assert_passes(repo.commit_file("a.txt"))
    repo.git("switch", "-q", "develop")
    result = repo.commit_file("b.txt")
    assert_blocked(result, "protected-branch")
    assert result.text.count("protected-branch:") <= 1, result.text


@pytest.mark.slow
def test_demo_walks_the_flow_and_names_the_rules(repo: Repo) -> None:
    result = repo.fw("demo")
    assert result.code == 0, result.text
    for rule in ("protected-branch", "merge-target", "branch-name", "dvc-untracked-data",
                 "mlflow-run-id", "branch-delete", "branch-origin", "protected-history",
                 "force-push"):
        assert rule in result.out, rule
    assert "14 of 14 operations judged as the gitflow-ml policy says" in result.out
    assert TRACEBACK not in result.text


def test_check_branch_looks_at_an_existing_branch_history(repo: Repo) -> None:
    """`check --branch` on a hotfix that carries develop-only work reports branch-origin."""
    quiet(repo, "switch", "-q", "develop")
    repo.write("develop-only.txt", "x\n")
    quiet(repo, "add", "develop-only.txt")
    quiet(repo, "commit", "-qm", "Develop-only work")
    quiet(repo, "switch", "-q", "-c", "hotfix/crash")
    result = repo.fw("check", "--branch", "hotfix/crash")
    assert result.code == 1, result.text
    assert "branch-origin" in result.text and "hotfix/crash" in result.text


def test_uninstall_restores_the_chained_hook(repo: Repo) -> None:
    hooks = repo.path / ".git" / "hooks"
    original = "#!/bin/sh\nexit 0\n"
    (hooks / "pre-commit").write_text(original)
    (hooks / "pre-commit").chmod(0o755)
    assert repo.fw("install").code == 0
    assert (hooks / "pre-commit").read_text() != original
    result = repo.fw("install", "--uninstall")
    assert result.code == 0, result.text
    assert (hooks / "pre-commit").read_text() == original
    assert not (hooks / "pre-push").exists()
    quiet(repo, "switch", "-q", "develop")
    assert repo.commit_file("after.txt").code == 0


def test_install_honours_core_hooks_path(repo: Repo) -> None:
    custom = repo.path / ".githooks"
    custom.mkdir()
    repo.git("config", "core.hooksPath", ".githooks")
    result = repo.fw("install")
    assert result.code == 0, result.text
    assert os.access(custom / "pre-commit", os.X_OK)
    repo.git("switch", "-q", "develop")
    assert_blocked(repo.commit_file("b.txt"), "protected-branch")
