"""Through the real pre-commit framework: this checkout, snapshotted at a commit, installed by
`pre-commit install` into pre-commit's own virtualenv (no PYTHONPATH, no flowwarden on PATH).

What both install modes must do is written once, over `hooked_repo` (test_core_shims_commit,
test_core_shims_push); here stays what only the framework does, or cannot do."""
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
)

from fwkit import PreCommitSetup, Repo, pre_commit, run

pytestmark = pytest.mark.slow


def test_hooks_are_installed_for_every_stage(pc_repo: Repo) -> None:
    hooks = pc_repo.path / ".git" / "hooks"
    for stage in ("pre-commit", "pre-merge-commit", "commit-msg", "prepare-commit-msg",
                  "pre-push", "post-checkout"):
        assert "pre_commit" in (hooks / stage).read_text(), stage


def test_a_refusal_shows_under_the_framework_hook_name(pc_repo: Repo) -> None:
    """pre-commit's own banner names the hook and says Failed, above flowwarden's message."""
    quiet(pc_repo, "switch", "-q", "develop")
    result = pc_repo.commit_file("model.py")
    assert_blocked(result, "protected-branch", "develop")
    assert "flowwarden" in result.text and "Failed" in result.text


@pytest.fixture
def pc_pushed(pc_repo: Repo, tmp_path: Path) -> tuple[Repo, Repo]:
    return pc_repo, add_bare_remote(pc_repo, tmp_path / "origin.git")


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
    """`pre-commit run` by hand (the framework's own entry, no git hook) on develop commits
    nothing, so it refuses nothing (issue 11: CI and pre-commit.ci run exactly this); a real
    commit on develop is still refused."""
    quiet(pc_repo, "switch", "-q", "develop")
    result = pre_commit(pc_repo, "run", "flowwarden")
    assert result.code == 0, result.text
    assert "protected-branch" not in result.text
    pc_repo.write("tweak.py", "x = 1\n")
    pc_repo.git("add", "tweak.py")
    committed = pc_repo.git("commit", "-m", "Tweak", check=False)
    assert committed.code != 0 and "protected-branch" in committed.text


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
