"""The CLI a user types: check, rules, explain, policy, install, demo, formats and colours."""
from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest
from corekit import CORE_RULES, TRACEBACK, assert_blocked, assert_passes, quiet

from flowwarden.core.errors import PolicyError
from flowwarden.entry import boundary
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


def test_rules_with_a_broken_policy_is_a_policy_error_like_validate(repo: Repo) -> None:
    """Listing the preset's severities for a repository whose policy is broken would mislead."""
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\nrules:\n  merge-target: "
                                   "{severity: fatal}\n")
    assert repo.fw("policy", "validate").code == 2
    result = repo.fw("rules")
    assert result.code == 2, result.text
    assert "policy error" in result.err and ".flowwarden.yaml:3" in result.err
    assert "merge-target" not in result.out and TRACEBACK not in result.text


def test_rules_outside_a_repository_lists_the_preset(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    result = repo.fw("-C", str(outside), "rules")
    assert result.code == 0, result.text
    assert "merge-target" in result.out


@pytest.mark.parametrize(("argv", "skip"), [
    (["hook", "pre-commit"], True), (["-C", "x", "--format", "json", "hook", "auto"], True),
    (["hook", "pre-receive"], False), (["hook", "--format", "json", "pre-receive"], False),
    (["ci", "--run-checks"], False),
    (["audit"], False), (["rules"], False)])
def test_an_internal_error_is_one_line_exit_3_and_says_how_to_skip_only_where_one_can(
        argv: list[str], skip: bool) -> None:
    err = io.StringIO()
    code = boundary.guarded(lambda: 1 // 0, boundary.where(argv), err, {})
    assert code == 3
    text = err.getvalue()
    assert "internal error" in text and "ZeroDivisionError" in text
    assert TRACEBACK not in text and len(text.splitlines()) == 2, text
    assert ("--no-verify" in text) is skip, text


def test_flowwarden_debug_shows_the_traceback() -> None:
    err = io.StringIO()
    code = boundary.guarded(lambda: 1 // 0, boundary.LOCAL, err, {"FLOWWARDEN_DEBUG": "1"})
    assert code == 3 and TRACEBACK in err.getvalue()


def test_a_policy_error_on_the_server_does_not_suggest_no_verify() -> None:
    for at, says in ((boundary.SERVER, "administrator"), (boundary.CI, "target branch"),
                     (boundary.LOCAL, "--no-verify")):
        err = io.StringIO()
        error = PolicyError(".flowwarden.yaml", 3, 5, ("rules",), "bad")
        assert boundary.guarded(lambda e=error: _raise(e), at, err, {}) == 2
        assert "policy error: .flowwarden.yaml:3:5" in err.getvalue()
        assert says in err.getvalue()
        assert ("--no-verify" in err.getvalue()) is (at is boundary.LOCAL)


def _raise(error: Exception) -> int:
    raise error


def test_ci_and_audit_usage_errors_exit_2_with_the_fix(repo: Repo) -> None:
    bad_option = repo.fw("ci", "--no-such-option")
    assert bad_option.code == 2 and TRACEBACK not in bad_option.text
    since = repo.fw("audit", "--since", "no-such-ref")
    assert since.code == 2, since.text
    assert "flowwarden audit: --since no-such-ref is not a commit" in since.err
    assert "fix: flowwarden audit --since" in since.err
    assert repo.fw("ci", "--help").code == 0


def test_ci_outside_a_repository_is_a_usage_error(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    result = repo.fw("-C", str(outside), "ci", "--source", "feature/x", "--target", "develop")
    assert result.code == 2, result.text
    assert "flowwarden ci:" in result.err and "not inside a git repository" in result.err
