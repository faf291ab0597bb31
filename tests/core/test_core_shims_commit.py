"""Commit-time stages: pre-commit, pre-merge-commit, post-checkout, with the git states a real
user meets (conflicts, -a, paths, unborn, rebase, worktrees). Scenarios that take `hooked_repo`
run under both install modes (the shims and the pre-commit framework); the rest under the
shims, which see every git state (the framework's own limits: test_core_precommit)."""
from __future__ import annotations

from pathlib import Path

import pytest
from corekit import (
    add_bare_remote,
    assert_blocked,
    assert_passes,
    branch_with_commit,
    commit_quiet,
    quiet,
    rules_in,
)

from fwkit import Repo, in_terminal, make_repo

# --- protected-branch and branch-name at pre-commit ----------------------------------------


@pytest.mark.parametrize("branch", ["main", "develop"])
def test_commit_on_protected_branch_is_refused(hooked_repo: Repo, branch: str) -> None:
    quiet(hooked_repo, "switch", "-q", branch)
    before = hooked_repo.sha()
    result = hooked_repo.commit_file("model.py", "print('direct')\n")
    assert_blocked(result, "protected-branch", branch)
    assert hooked_repo.sha() == before, "the refused commit was created"


def test_commit_on_feature_branch_passes_silently(shim_repo: Repo) -> None:
    quiet(shim_repo, "switch", "-q", "-c", "feature/x", "develop")
    result = shim_repo.commit_file("model.py", "print('feature')\n")
    assert_passes(result)
    assert shim_repo.git("log", "-1", "--format=%s").out.strip() == "change model.py"


def test_commit_on_illegal_branch_name_is_refused(hooked_repo: Repo) -> None:
    quiet(hooked_repo, "switch", "-q", "-c", "Feature_Login", "develop")
    before = hooked_repo.sha()
    result = hooked_repo.commit_file("model.py")
    assert_blocked(result, "branch-name", "Feature_Login")
    assert hooked_repo.sha() == before


def test_skip_is_printed_as_a_waiver(hooked_repo: Repo) -> None:
    quiet(hooked_repo, "switch", "-q", "develop")
    before = hooked_repo.sha()
    hooked_repo.write("notes.md", "hotfix note\n")
    hooked_repo.git("add", "notes.md")
    result = in_terminal(hooked_repo, "commit", "-m", "Note",
                         env={"FLOWWARDEN_SKIP": "protected-branch"})
    assert result.code == 0, result.text
    assert "waived" in result.text.lower() and "protected-branch" in result.text
    assert hooked_repo.sha() != before


def test_skip_of_another_rule_still_blocks(shim_repo: Repo) -> None:
    quiet(shim_repo, "switch", "-q", "develop")
    shim_repo.write("notes.md", "x\n")
    shim_repo.git("add", "notes.md")
    result = shim_repo.git("commit", "-m", "Note", check=False,
                           env={"FLOWWARDEN_SKIP": "branch-name"})
    assert_blocked(result, "protected-branch")


def test_severity_warning_lets_the_commit_through_with_a_warning(shim_repo: Repo) -> None:
    quiet(shim_repo, "switch", "-q", "develop")
    commit_quiet(shim_repo, ".flowwarden.yaml",
                 "extends: gitflow-ml\nrules:\n  protected-branch: {severity: warning}\n")
    before = shim_repo.sha()
    result = shim_repo.commit_file("notes.md")
    assert result.code == 0, result.text
    assert "protected-branch" in result.text and "warning" in result.text.lower()
    assert shim_repo.sha() != before


def test_severity_off_is_silent(shim_repo: Repo) -> None:
    quiet(shim_repo, "switch", "-q", "develop")
    commit_quiet(shim_repo, ".flowwarden.yaml",
                 "extends: gitflow-ml\nrules:\n  protected-branch: {severity: 'off'}\n")
    assert_passes(shim_repo.commit_file("notes.md"))


def test_legal_feature_flow_passes(hooked_repo: Repo) -> None:
    repo = hooked_repo
    assert_passes(repo.git("switch", "-c", "feature/x", "develop", check=False))
    assert_passes(repo.commit_file("model.py", "x = 1\n", "Add the model"))
    repo.git("switch", "-q", "develop")
    assert_passes(repo.git("merge", "--no-ff", "--no-edit", "feature/x", check=False))
    assert len(repo.git("log", "-1", "--format=%P").out.split()) == 2
    repo.git("switch", "-q", "-c", "release/1.0.0")
    assert_passes(repo.commit_file("VERSION", "1.0.0\n", "Bump the version"))
    repo.git("switch", "-q", "main")
    assert_passes(repo.git("merge", "--no-ff", "--no-edit", "release/1.0.0", check=False))
    assert "release/1.0.0" in repo.git("log", "-1", "--format=%s").out


# --- merge-target at pre-merge-commit and at a concluded conflicted merge ---------------------


def test_feature_merged_into_main_is_refused(hooked_repo: Repo) -> None:
    branch_with_commit(hooked_repo, "feature/x", "develop")
    quiet(hooked_repo, "switch", "-q", "main")
    before = hooked_repo.sha()
    result = hooked_repo.git("merge", "--no-ff", "--no-edit", "feature/x", check=False)
    assert_blocked(result, "merge-target", "feature/x", "main")
    assert hooked_repo.sha() == before, "the refused merge was committed"


def test_refused_merge_cannot_be_concluded_with_commit(shim_repo: Repo) -> None:
    """git keeps MERGE_HEAD after pre-merge-commit refuses; `git commit` must refuse too."""
    branch_with_commit(shim_repo, "feature/x", "develop")
    quiet(shim_repo, "switch", "-q", "main")
    before = shim_repo.sha()
    refused = shim_repo.git("merge", "--no-ff", "--no-edit", "feature/x", check=False)
    assert_blocked(refused, "merge-target")
    if not (shim_repo.path / ".git" / "MERGE_HEAD").exists():
        pytest.skip("this git does not keep the merge state after pre-merge-commit refuses")
    result = shim_repo.git("commit", "--no-edit", check=False)
    assert_blocked(result, "merge-target", "feature/x")
    assert shim_repo.sha() == before


def test_feature_merged_into_develop_passes(shim_repo: Repo) -> None:
    branch_with_commit(shim_repo, "feature/x", "develop")
    quiet(shim_repo, "switch", "-q", "develop")
    result = shim_repo.git("merge", "--no-ff", "--no-edit", "feature/x", check=False)
    assert_passes(result)
    assert len(shim_repo.git("log", "-1", "--format=%P").out.split()) == 2


def test_release_merged_into_main_passes(shim_repo: Repo) -> None:
    branch_with_commit(shim_repo, "release/1.0.0", "develop")
    quiet(shim_repo, "switch", "-q", "main")
    result = shim_repo.git("merge", "--no-ff", "--no-edit", "release/1.0.0", check=False)
    assert_passes(result)
    assert "release/1.0.0" in shim_repo.git("log", "-1", "--format=%s").out


def test_hotfix_merged_into_develop_passes(shim_repo: Repo) -> None:
    branch_with_commit(shim_repo, "hotfix/crash", "main")
    quiet(shim_repo, "switch", "-q", "develop")
    assert_passes(shim_repo.git("merge", "--no-ff", "--no-edit", "hotfix/crash", check=False))


def test_fast_forward_merge_runs_no_blocking_hook(shim_repo: Repo) -> None:
    """Documented git behaviour: a fast-forward merge is only caught at push (see push tests)."""
    branch_with_commit(shim_repo, "feature/x", "develop")
    tip = shim_repo.sha()
    quiet(shim_repo, "switch", "-q", "main")
    result = shim_repo.git("merge", "--ff-only", "feature/x", check=False)
    assert result.code == 0, result.text
    assert shim_repo.sha() == tip


def test_conflicted_merge_concluded_into_main_is_refused(shim_repo: Repo) -> None:
    branch_with_commit(shim_repo, "feature/x", "develop", "README.md")
    quiet(shim_repo, "switch", "-q", "main")
    commit_quiet(shim_repo, "README.md", "# model, main's version\n")
    before = shim_repo.sha()
    conflicted = shim_repo.git("merge", "--no-ff", "feature/x", check=False)
    assert conflicted.code != 0 and "CONFLICT" in conflicted.text
    shim_repo.write("README.md", "# resolved\n")
    shim_repo.git("add", "README.md")
    assert (shim_repo.path / ".git" / "MERGE_HEAD").exists()
    result = shim_repo.git("commit", "--no-edit", check=False)
    assert_blocked(result, "merge-target", "feature/x", "main")
    assert shim_repo.sha() == before


def test_conflicted_merge_concluded_into_develop_passes(shim_repo: Repo) -> None:
    branch_with_commit(shim_repo, "feature/x", "develop", "README.md")
    quiet(shim_repo, "switch", "-q", "develop")
    commit_quiet(shim_repo, "README.md", "# model, develop's version\n")
    shim_repo.git("merge", "--no-ff", "feature/x", check=False)
    shim_repo.write("README.md", "# resolved\n")
    shim_repo.git("add", "README.md")
    result = shim_repo.git("commit", "--no-edit", check=False)
    assert_passes(result)
    assert len(shim_repo.git("log", "-1", "--format=%P").out.split()) == 2


def test_remote_tracking_feature_merged_into_main_is_refused(shim_repo: Repo,
                                                             tmp_path: Path) -> None:
    branch_with_commit(shim_repo, "feature/x", "develop")
    add_bare_remote(shim_repo, tmp_path / "origin.git", branches=("main", "develop", "feature/x"))
    quiet(shim_repo, "switch", "-q", "main")
    quiet(shim_repo, "branch", "-q", "-D", "feature/x")
    shim_repo.git("fetch", "-q", "origin")
    before = shim_repo.sha()
    result = shim_repo.git("merge", "--no-ff", "--no-edit", "origin/feature/x", check=False)
    assert_blocked(result, "merge-target", "feature/x")
    assert shim_repo.sha() == before


def test_remote_tracking_feature_merged_into_develop_passes(shim_repo: Repo,
                                                            tmp_path: Path) -> None:
    branch_with_commit(shim_repo, "feature/x", "develop")
    add_bare_remote(shim_repo, tmp_path / "origin.git", branches=("main", "develop", "feature/x"))
    quiet(shim_repo, "switch", "-q", "develop")
    quiet(shim_repo, "branch", "-q", "-D", "feature/x")
    shim_repo.git("fetch", "-q", "origin")
    assert_passes(shim_repo.git("merge", "--no-ff", "--no-edit", "origin/feature/x",
                                check=False))


def test_merge_by_sha_falls_back_to_the_refs_pointing_at_it(shim_repo: Repo) -> None:
    tip = branch_with_commit(shim_repo, "feature/x", "develop")
    quiet(shim_repo, "switch", "-q", "main")
    result = shim_repo.git("merge", "--no-ff", "--no-edit", tip, check=False)
    assert_blocked(result, "merge-target", "feature/x")


# --- post-checkout ---------------------------------------------------------------------------


def test_post_checkout_warns_about_a_bad_new_branch_name(hooked_repo: Repo) -> None:
    """Under pre-commit a passing hook's output shows only for `verbose: true` hooks (observed,
    4.7); flowwarden writes warnings and waivers to the terminal instead, so they are never
    silent for a developer at one."""
    result = in_terminal(hooked_repo, "switch", "-c", "badname")
    assert result.code == 0, result.text
    assert "branch-name" in result.text and "badname" in result.text
    assert "warning" in result.text.lower()
    assert hooked_repo.git("branch", "--show-current").out.strip() == "badname"


def test_post_checkout_warns_about_a_hotfix_from_develop(shim_repo: Repo) -> None:
    quiet(shim_repo, "switch", "-q", "develop")
    commit_quiet(shim_repo, "develop-only.txt")
    result = shim_repo.git("switch", "-c", "hotfix/crash", check=False)
    assert result.code == 0, result.text
    assert "branch-origin" in result.text and "warning" in result.text.lower()


def test_post_checkout_is_quiet_for_a_legal_branch(shim_repo: Repo) -> None:
    assert_passes(shim_repo.git("switch", "-c", "feature/login", "develop", check=False))


def test_post_checkout_is_quiet_when_returning_to_a_branch(shim_repo: Repo) -> None:
    """Only a branch's creation warns; switching back to one already worked on does not."""
    branch_with_commit(shim_repo, "Bad_Existing", "develop")
    quiet(shim_repo, "switch", "-q", "develop")
    assert_passes(shim_repo.git("switch", "Bad_Existing", check=False))


# --- git states ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["-a", "paths"])
def test_commit_with_temporary_index_on_develop_is_refused(shim_repo: Repo, how: str) -> None:
    """`git commit -a` and `git commit <paths>` stage into a temporary GIT_INDEX_FILE."""
    quiet(shim_repo, "switch", "-q", "develop")
    shim_repo.write("README.md", "# changed in the work tree only\n")
    before = shim_repo.sha()
    args = ["commit", "-m", "Edit", *(["-a"] if how == "-a" else ["--", "README.md"])]
    result = shim_repo.git(*args, check=False)
    assert_blocked(result, "protected-branch")
    assert shim_repo.sha() == before
    assert shim_repo.git("diff", "--cached", "--name-only").out.strip() == ""


@pytest.mark.parametrize("how", ["-a", "paths"])
def test_commit_with_temporary_index_on_feature_passes(shim_repo: Repo, how: str) -> None:
    quiet(shim_repo, "switch", "-q", "-c", "feature/x", "develop")
    shim_repo.write("README.md", "# changed\n")
    args = ["commit", "-m", "Edit", *(["-a"] if how == "-a" else ["--", "README.md"])]
    assert_passes(shim_repo.git(*args, check=False))
    assert shim_repo.git("show", "HEAD:README.md").out == "# changed\n"


def test_first_commit_in_an_empty_repository_is_allowed(tmp_path: Path,
                                                        env: dict[str, str]) -> None:
    """Unborn main: the initial commit is how a repository starts, so the policy allows it."""
    repo = Repo(tmp_path / "fresh", env)
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main")
    repo.install_shims()
    result = repo.commit_file("README.md", "# new\n", "Initial commit")
    assert_passes(result)
    assert repo.git("rev-list", "--count", "HEAD").out.strip() == "1"


def test_second_commit_on_main_is_refused_after_the_first(tmp_path: Path,
                                                         env: dict[str, str]) -> None:
    repo = Repo(tmp_path / "fresh", env)
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main")
    repo.install_shims()
    assert repo.commit_file("README.md", "# new\n", "Initial commit").code == 0
    assert_blocked(repo.commit_file("model.py"), "protected-branch")


def test_commit_on_detached_head_during_rebase_of_a_feature(shim_repo: Repo) -> None:
    branch_with_commit(shim_repo, "feature/x", "develop")
    quiet(shim_repo, "switch", "-q", "develop")
    commit_quiet(shim_repo, "develop-moved.txt")
    shim_repo.git("switch", "-q", "feature/x")
    exec_cmd = "echo extra > extra.txt && git add extra.txt && git commit -qm 'Extra'"
    result = shim_repo.git("rebase", "--exec", exec_cmd, "develop", check=False)
    assert result.code == 0, result.text
    assert "Traceback" not in result.text
    assert not rules_in(result.text), result.text
    assert shim_repo.git("branch", "--show-current").out.strip() == "feature/x"
    assert shim_repo.git("log", "-1", "--format=%s").out.strip() == "Extra"


def test_commit_on_plain_detached_head_passes(shim_repo: Repo) -> None:
    shim_repo.git("switch", "-q", "--detach", "develop")
    result = shim_repo.commit_file("scratch.txt")
    assert result.code == 0, result.text
    assert "Traceback" not in result.text


def test_linked_worktree_is_checked_like_the_main_one(shim_repo: Repo, tmp_path: Path) -> None:
    wt_develop = tmp_path / "wt-develop"
    wt_feature = tmp_path / "wt-feature"
    shim_repo.git("worktree", "add", "-q", str(wt_develop), "develop")
    shim_repo.git("worktree", "add", "-q", "-b", "feature/wt", str(wt_feature), "develop")
    on_develop = Repo(wt_develop, shim_repo.env)
    on_feature = Repo(wt_feature, shim_repo.env)
    assert_blocked(on_develop.commit_file("model.py"), "protected-branch", "develop")
    assert_passes(on_feature.commit_file("model.py"))


def test_linked_worktree_warns_on_a_bad_branch_name(shim_repo: Repo, tmp_path: Path) -> None:
    result = shim_repo.git("worktree", "add", "-b", "Bad_Name", str(tmp_path / "wt"),
                           "develop", check=False)
    assert result.code == 0, result.text
    assert "branch-name" in result.text


@pytest.fixture
def master_repo(tmp_path: Path, env: dict[str, str]) -> Repo:
    repo = make_repo(tmp_path / "master-repo", env, main="master")
    repo.install_shims()
    return repo


def test_master_is_protected_like_main(master_repo: Repo) -> None:
    assert_blocked(master_repo.commit_file("model.py"), "protected-branch", "master")


def test_feature_merged_into_master_is_refused(master_repo: Repo) -> None:
    branch_with_commit(master_repo, "feature/x", "develop")
    quiet(master_repo, "switch", "-q", "master")
    result = master_repo.git("merge", "--no-ff", "--no-edit", "feature/x", check=False)
    assert_blocked(result, "merge-target", "feature/x", "master")


def test_release_merged_into_master_passes(master_repo: Repo) -> None:
    branch_with_commit(master_repo, "release/2.1.0", "develop")
    quiet(master_repo, "switch", "-q", "master")
    assert_passes(master_repo.git("merge", "--no-ff", "--no-edit", "release/2.1.0",
                                  check=False))


def test_custom_kind_from_the_policy_file(shim_repo: Repo) -> None:
    commit_quiet(shim_repo, ".flowwarden.yaml", (
        "extends: gitflow-ml\n"
        "branches:\n"
        "  bugfix:\n"
        "    pattern: \"bugfix/[a-z0-9._-]+\"\n"
        "    from: [develop]\n"
        "    into: [develop]\n"))
    quiet(shim_repo, "branch", "-f", "develop", "main")
    quiet(shim_repo, "switch", "-q", "-c", "bugfix/typo", "develop")
    assert_passes(shim_repo.commit_file("fix.txt"))
    quiet(shim_repo, "switch", "-q", "main")
    result = shim_repo.git("merge", "--no-ff", "--no-edit", "bugfix/typo", check=False)
    assert_blocked(result, "merge-target", "bugfix/typo")


def test_pull_of_a_feature_into_main_is_refused(shim_repo: Repo, tmp_path: Path) -> None:
    """`git pull` names the merged branch `branch 'feature/x' of <url>` in GITHEAD_*."""
    branch_with_commit(shim_repo, "feature/x", "develop")
    add_bare_remote(shim_repo, tmp_path / "origin.git", branches=("main", "develop", "feature/x"))
    quiet(shim_repo, "switch", "-q", "main")
    before = shim_repo.sha()
    result = shim_repo.git("pull", "--no-rebase", "--no-ff", "--no-edit", "origin", "feature/x",
                           check=False)
    assert_blocked(result, "merge-target", "feature/x")
    assert shim_repo.sha() == before


def test_octopus_merge_into_develop_passes_and_into_main_is_refused(shim_repo: Repo) -> None:
    branch_with_commit(shim_repo, "feature/a", "develop")
    branch_with_commit(shim_repo, "feature/b", "develop")
    quiet(shim_repo, "switch", "-q", "develop")
    assert_passes(shim_repo.git("merge", "--no-ff", "--no-edit", "feature/a", "feature/b",
                                check=False))
    assert len(shim_repo.git("log", "-1", "--format=%P").out.split()) == 3
    branch_with_commit(shim_repo, "release/1.0.0", "develop")
    branch_with_commit(shim_repo, "feature/c", "develop")  # not in the release
    quiet(shim_repo, "switch", "-q", "main")
    before = shim_repo.sha()
    result = shim_repo.git("merge", "--no-ff", "--no-edit", "release/1.0.0", "feature/c",
                           check=False)
    assert_blocked(result, "merge-target", "feature/c")
    assert shim_repo.sha() == before


def test_squash_merge_into_develop_is_a_direct_commit(shim_repo: Repo) -> None:
    """A local squash leaves no MERGE_HEAD: the commit is an ordinary one on develop."""
    branch_with_commit(shim_repo, "feature/x", "develop")
    quiet(shim_repo, "switch", "-q", "develop")
    shim_repo.git("merge", "--squash", "feature/x")
    assert_blocked(shim_repo.git("commit", "--no-edit", check=False), "protected-branch")


def test_cherry_pick_onto_develop_runs_no_commit_hook(shim_repo: Repo) -> None:
    """git runs neither pre-commit nor commit-msg for cherry-pick; push catches it."""
    tip = branch_with_commit(shim_repo, "feature/x", "develop")
    quiet(shim_repo, "switch", "-q", "develop")
    before = shim_repo.sha()
    result = shim_repo.git("cherry-pick", tip, check=False)
    assert result.code == 0, result.text
    assert shim_repo.sha() != before
