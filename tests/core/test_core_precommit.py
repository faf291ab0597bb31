"""Through the real pre-commit framework: this checkout, snapshotted at a commit, installed by
`pre-commit install` into pre-commit's own virtualenv (no PYTHONPATH, no flowwarden on PATH)."""
from __future__ import annotations

from pathlib import Path

import pytest
from corekit import (
    add_bare_remote,
    assert_blocked,
    branch_with_commit,
    commit_quiet,
    merge_quiet,
    quiet,
    remote_sha,
    rules_in,
)

from fwkit import PreCommitSetup, Repo, Result, pre_commit, run

pytestmark = pytest.mark.slow


def assert_passed(result: Result) -> None:
    assert result.code == 0, result.text
    assert not rules_in(result.text), result.text


def test_hooks_are_installed_for_every_stage(pc_repo: Repo) -> None:
    hooks = pc_repo.path / ".git" / "hooks"
    for stage in ("pre-commit", "pre-merge-commit", "commit-msg", "prepare-commit-msg",
                  "pre-push", "post-checkout"):
        assert "pre_commit" in (hooks / stage).read_text(), stage


@pytest.mark.parametrize("branch", ["main", "develop"])
def test_commit_on_protected_branch_is_refused(pc_repo: Repo, branch: str) -> None:
    quiet(pc_repo, "switch", "-q", branch)
    before = pc_repo.sha()
    result = pc_repo.commit_file("model.py")
    assert_blocked(result, "protected-branch", branch)
    assert "flowwarden" in result.text and "Failed" in result.text
    assert pc_repo.sha() == before


def test_feature_merge_into_main_is_refused(pc_repo: Repo) -> None:
    branch_with_commit(pc_repo, "feature/x", "develop")
    quiet(pc_repo, "switch", "-q", "main")
    before = pc_repo.sha()
    result = pc_repo.git("merge", "--no-ff", "--no-edit", "feature/x", check=False)
    assert_blocked(result, "merge-target", "feature/x")
    assert pc_repo.sha() == before


def test_legal_feature_flow_passes(pc_repo: Repo) -> None:
    assert_passed(pc_repo.git("switch", "-c", "feature/x", "develop", check=False))
    assert_passed(pc_repo.commit_file("model.py", "x = 1\n", "Add the model"))
    pc_repo.git("switch", "-q", "develop")
    assert_passed(pc_repo.git("merge", "--no-ff", "--no-edit", "feature/x", check=False))
    assert len(pc_repo.git("log", "-1", "--format=%P").out.split()) == 2
    pc_repo.git("switch", "-q", "-c", "release/1.0.0")
    assert_passed(pc_repo.commit_file("VERSION", "1.0.0\n", "Bump the version"))
    pc_repo.git("switch", "-q", "main")
    assert_passed(pc_repo.git("merge", "--no-ff", "--no-edit", "release/1.0.0", check=False))
    assert "release/1.0.0" in pc_repo.git("log", "-1", "--format=%s").out


def test_illegal_branch_name_is_refused_at_commit(pc_repo: Repo) -> None:
    quiet(pc_repo, "switch", "-q", "-c", "Feature_X", "develop")
    assert_blocked(pc_repo.commit_file("model.py"), "branch-name", "Feature_X")


def test_skip_is_printed_under_the_framework(pc_repo: Repo) -> None:
    """FLOWWARDEN_SKIP reaches the hook through pre-commit's environment, and is said aloud."""
    quiet(pc_repo, "switch", "-q", "develop")
    before = pc_repo.sha()
    pc_repo.write("notes.md", "x\n")
    pc_repo.git("add", "notes.md")
    result = pc_repo.git("commit", "-m", "Note", check=False,
                         env={"FLOWWARDEN_SKIP": "protected-branch"})
    assert result.code == 0, result.text
    assert pc_repo.sha() != before
    assert "waived" in result.text.lower() and "protected-branch" in result.text, (
        "the skip went through silently:\n" + result.text)


def test_post_checkout_warning_is_shown(pc_repo: Repo) -> None:
    """pre-commit prints a passing hook's output only for `verbose: true` hooks (observed, 4.7);
    flowwarden's hook definition sets it, so warnings and waivers are never silent."""
    loud = pc_repo.git("switch", "-c", "badname", "develop", check=False)
    assert loud.code == 0, loud.text
    assert "branch-name" in loud.text and "badname" in loud.text
    assert "warning" in loud.text.lower()


@pytest.fixture
def pc_pushed(pc_repo: Repo, tmp_path: Path) -> tuple[Repo, Repo]:
    return pc_repo, add_bare_remote(pc_repo, tmp_path / "origin.git")


def test_pre_push_of_a_no_verify_commit_on_develop_is_refused(pc_pushed: tuple[Repo, Repo]
                                                              ) -> None:
    local, origin = pc_pushed
    quiet(local, "switch", "-q", "develop")
    commit_quiet(local, "hack.py")
    published = remote_sha(origin, "develop")
    result = local.git("push", "origin", "develop", check=False)
    assert_blocked(result, "protected-history", "develop")
    assert remote_sha(origin, "develop") == published


def test_pre_push_of_a_fast_forwarded_main_is_refused(pc_pushed: tuple[Repo, Repo]) -> None:
    local, origin = pc_pushed
    branch_with_commit(local, "feature/a", "develop")
    merge_quiet(local, "develop", "feature/a")
    quiet(local, "push", "-q", "--no-verify", "origin", "develop")
    merge_quiet(local, "main", "develop", ff=True)
    assert_blocked(local.git("push", "origin", "main", check=False), "protected-history")


def test_pre_push_of_a_new_hotfix_from_develop_is_refused(pc_pushed: tuple[Repo, Repo]) -> None:
    local, origin = pc_pushed
    branch_with_commit(local, "feature/a", "develop")
    merge_quiet(local, "develop", "feature/a")
    quiet(local, "push", "-q", "--no-verify", "origin", "develop")
    branch_with_commit(local, "hotfix/crash", "develop")
    assert_blocked(local.git("push", "origin", "hotfix/crash", check=False), "branch-origin")
    assert remote_sha(origin, "hotfix/crash") is None


def test_pre_push_legal_feature_passes(pc_pushed: tuple[Repo, Repo]) -> None:
    local, origin = pc_pushed
    tip = branch_with_commit(local, "feature/a", "develop")
    assert_passed(local.git("push", "origin", "feature/a", check=False))
    assert remote_sha(origin, "feature/a") == tip


def test_framework_pre_push_cannot_see_deletions(pc_pushed: tuple[Repo, Repo]) -> None:
    """pre-commit skips deleted refs and runs no hook at all: the shims or the server must
    catch `git push --delete develop` (see test_core_shims_push)."""
    local, origin = pc_pushed
    result = local.git("push", "origin", "--delete", "develop", check=False)
    assert result.code == 0, result.text
    assert remote_sha(origin, "develop") is None


def test_framework_pre_push_sees_only_the_first_ref_with_new_commits(
        pc_pushed: tuple[Repo, Repo]) -> None:
    """Observed with git 2.39 and pre-commit 4.7: pre-commit runs its hooks once, for the first
    stdin line with new commits. git writes the refs the remote already has first, in the
    remote's (sorted) order, whatever the command line says, then new refs. A legal develop
    update hides a bad main pushed with it; main alone is refused. The shims
    (test_core_shims_push) and the server see every ref."""
    local, origin = pc_pushed
    branch_with_commit(local, "feature/a", "develop")
    good = merge_quiet(local, "develop", "feature/a")
    quiet(local, "switch", "-q", "main")
    bad = commit_quiet(local, "hack.py")
    alone = local.git("push", "origin", "main", check=False)
    assert_blocked(alone, "protected-history", "main")
    assert remote_sha(origin, "main") != bad
    together = local.git("push", "origin", "main", "develop", check=False)
    assert together.code == 0, together.text
    assert remote_sha(origin, "develop") == good
    assert remote_sha(origin, "main") == bad, "main went through unseen"


def test_pre_commit_run_all_stages_from_the_cli(pc_repo: Repo) -> None:
    """`pre-commit run` by hand (the framework's own entry, no git hook) on develop refuses."""
    quiet(pc_repo, "switch", "-q", "develop")
    result = pre_commit(pc_repo, "run", "flowwarden")
    assert result.code == 1, result.text
    assert "protected-branch" in result.text


def test_the_installed_wheel_ships_the_preset_and_schema(pc_repo: Repo,
                                                        precommit_setup: PreCommitSetup) -> None:
    """pre-commit pip-installed the snapshot: its `flowwarden` finds gitflow-ml and the schema
    inside the installed package, with no checkout on PYTHONPATH."""
    [exe] = list(precommit_setup.home.glob("repo*/py_env-*/bin/flowwarden"))
    shipped = list(exe.parent.parent.glob("lib/python*/site-packages/flowwarden/policies/*"))
    assert {p.name for p in shipped} >= {"gitflow-ml.yaml", "schema.json"}
    shown = run([str(exe), "policy", "show"], pc_repo.path, pc_repo.env)
    assert shown.code == 0 and "release" in shown.out, shown.text
    schema = run([str(exe), "policy", "schema"], pc_repo.path, pc_repo.env)
    assert schema.code == 0 and '"branches"' in schema.out, schema.text


def test_skip_is_printed_under_the_framework_with_verbose(pc_repo: Repo,
                                                        precommit_setup: PreCommitSetup) -> None:
    quiet(pc_repo, "switch", "-q", "develop")
    commit_quiet(pc_repo, ".pre-commit-config.yaml", precommit_setup.config_text(verbose=True))
    pc_repo.write("notes.md", "x\n")
    pc_repo.git("add", "notes.md")
    result = pc_repo.git("commit", "-m", "Note", check=False,
                         env={"FLOWWARDEN_SKIP": "protected-branch"})
    assert result.code == 0, result.text
    assert "waived" in result.text.lower() and "protected-branch" in result.text
