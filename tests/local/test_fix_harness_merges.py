"""merge-target and tests-before-merge fixes pasted where they refuse (pre-merge-commit, a
conflicted merge concluded at pre-commit, CI), and names no terminal may see raw, pasted:
the fix names the real branch (tests/fixkit.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from corekit import add_bare_remote, branch_with_commit, commit_quiet, quiet  # noqa: E402

from ci.cikit import Server  # noqa: E402
from fixkit import assert_words, fix_of, paste  # noqa: E402
from fwkit import Repo  # noqa: E402

BIDI = "\u202e"
LOOSE = "extends: gitflow-ml\nbranches:\n  hotfix: {pattern: \"hotfix/.+\"}\n"


def parents(repo: Repo, rev: str) -> int:
    return len(repo.git("log", "-1", "--format=%P", rev).out.split())


# --- merge-target -------------------------------------------------------------------------


def test_merge_target_at_pre_merge_commit(shim_repo: Repo) -> None:
    branch_with_commit(shim_repo, "feature/x", "develop")
    quiet(shim_repo, "switch", "-q", "main")
    main = shim_repo.sha("main")
    refused = shim_repo.git("merge", "--no-ff", "--no-edit", "feature/x", check=False)
    paste(shim_repo, fix_of(refused, "merge-target"))
    assert shim_repo.git("branch", "--show-current").out.strip() == "develop"
    assert parents(shim_repo, "develop") == 2 and shim_repo.sha("main") == main


def test_merge_target_of_a_conflicted_merge_concluded_at_commit(shim_repo: Repo) -> None:
    """The hook refuses `git commit` after the conflict was resolved: `git merge --abort`
    still works there, and the fix's merge into develop does not conflict."""
    quiet(shim_repo, "switch", "-q", "main")
    commit_quiet(shim_repo, "README.md", "# main's readme\n")
    branch_with_commit(shim_repo, "feature/x", "develop", "README.md")
    quiet(shim_repo, "switch", "-q", "main")
    assert shim_repo.git("merge", "--no-ff", "feature/x", check=False).code != 0  # conflict
    shim_repo.write("README.md", "# resolved\n")
    shim_repo.git("add", "README.md")
    refused = shim_repo.git("commit", "--no-edit", check=False)
    paste(shim_repo, fix_of(refused, "merge-target"))
    assert parents(shim_repo, "develop") == 2 and parents(shim_repo, "main") == 1


def test_merge_target_of_develop_into_main_carries_it_on_a_release(shim_repo: Repo) -> None:
    """develop merges into nothing, and a release's name needs a version only the user knows:
    the fix aborts, and its comment says in words what to do; done by hand, it passes."""
    branch_with_commit(shim_repo, "feature/x", "develop")
    quiet(shim_repo, "switch", "-q", "develop")
    quiet(shim_repo, "merge", "-q", "--no-ff", "--no-edit", "feature/x")
    quiet(shim_repo, "switch", "-q", "main")
    refused = shim_repo.git("merge", "--no-ff", "--no-edit", "develop", check=False)
    fix = fix_of(refused, "merge-target")
    paste(shim_repo, fix)
    command, words = fix.split("  # then ", 1)
    assert command == "git merge --abort", fix
    assert_words(words, shim_repo.env)
    assert "release branch from develop (git switch -c release/<name> develop)" in words
    shim_repo.git("switch", "-q", "-c", "release/1.0", "develop")
    shim_repo.git("switch", "-q", "main")
    assert shim_repo.git("merge", "--no-ff", "--no-edit", "release/1.0", check=False).code == 0


def test_merge_target_in_ci_is_words_and_following_them_passes(tmp_path: Path,
                                                               env: dict[str, str]) -> None:
    server = Server(tmp_path, env)
    server.dev.git("switch", "-q", "-c", "feature/x", "develop")
    server.dev.commit_file("x.py", "x = 1\n", "Add x", "--no-verify")
    server.dev.git("push", "-q", "origin", "feature/x")
    clone = server.clone(tmp_path / "ci")
    refused = clone.fw("ci", "--source", "feature/x", "--target", "main")
    fix = fix_of(refused, "merge-target")
    assert_words(fix, env)
    assert "'feature/x'" in fix or "feature/x" in fix.split()
    retargeted = fix.rsplit(" to ", 1)[1].strip("'")
    assert clone.fw("ci", "--source", "feature/x", "--target", retargeted).code == 0


# --- tests-before-merge -------------------------------------------------------------------

SCRIPT = "import pathlib, sys; sys.exit(1 if pathlib.Path('src/broken.py').exists() else 0)"


def with_checks(repo: Repo) -> None:
    quiet(repo, "switch", "-q", "develop")
    repo.write(".flowwarden.yaml",
               "version: 1\nextends: gitflow-ml\nchecks:\n  - name: unit tests\n"
               f"    run: [{json.dumps(sys.executable)}, -c, {json.dumps(SCRIPT)}]\n"
               "    before_merge_into: [develop]\n")
    quiet(repo, "add", ".flowwarden.yaml")
    quiet(repo, "commit", "-qm", "Unit tests before merges")
    branch_with_commit(repo, "feature/bad", "develop", "src/broken.py")
    quiet(repo, "switch", "-q", "develop")


def test_tests_before_merge_at_pre_merge_commit(shim_repo: Repo) -> None:
    """The fix is the check's command: pasted while the merge breaks it, it fails; once the
    work tree is repaired it passes, and concluding the merge (merge again) passes."""
    with_checks(shim_repo)
    refused = shim_repo.git("merge", "--no-ff", "--no-edit", "feature/bad", check=False)
    fix = fix_of(refused, "tests-before-merge")
    try:
        paste(shim_repo, fix)
        raise RuntimeError("the check's command passed on the broken tree")
    except AssertionError as failed:
        assert "fix failed when pasted" in str(failed)
    shim_repo.git("rm", "-qf", "src/broken.py")
    paste(shim_repo, fix)
    assert shim_repo.git("commit", "--no-edit", check=False).code == 0
    assert parents(shim_repo, "develop") == 2


def test_tests_before_merge_of_a_conflicted_merge_concluded_at_commit(shim_repo: Repo) -> None:
    with_checks(shim_repo)
    commit_quiet(shim_repo, "src/broken.py", "develop's\n")
    assert shim_repo.git("merge", "--no-ff", "feature/bad", check=False).code != 0  # conflict
    shim_repo.write("src/broken.py", "resolved\n")
    shim_repo.git("add", "src/broken.py")
    refused = shim_repo.git("commit", "--no-edit", check=False)
    fix = fix_of(refused, "tests-before-merge")
    shim_repo.git("rm", "-qf", "src/broken.py")
    paste(shim_repo, fix)
    assert shim_repo.git("commit", "--no-edit", check=False).code == 0


# --- names no terminal may see raw --------------------------------------------------------


def test_a_bidi_branch_name_is_renamed_by_its_real_name(shim_repo: Repo) -> None:
    name = f"Login{BIDI}Fix"
    quiet(shim_repo, "switch", "-q", "-c", name, "develop")
    shim_repo.write("README.md", "changed\n")
    refused = shim_repo.git("commit", "-a", "-m", "Fix login", check=False)
    fix = fix_of(refused, "branch-name")
    assert BIDI not in refused.text and "\\u202e" not in fix, fix
    paste(shim_repo, fix)
    assert shim_repo.git("commit", "-a", "-m", "Fix login", check=False).code == 0
    assert name not in shim_repo.git("branch", "--format=%(refname:short)").out


def test_a_zero_width_hotfix_name_is_rebased_by_its_real_name(shim_repo: Repo,
                                                               tmp_path: Path) -> None:
    quiet(shim_repo, "switch", "-q", "main")
    shim_repo.write(".flowwarden.yaml", LOOSE)  # hotfix/<any name>, on the protected branches
    quiet(shim_repo, "add", ".flowwarden.yaml")
    quiet(shim_repo, "commit", "-qm", "Looser names")
    quiet(shim_repo, "branch", "-f", "develop", "main")
    add_bare_remote(shim_repo, tmp_path / "origin.git")
    branch_with_commit(shim_repo, "feature/w", "develop")
    quiet(shim_repo, "switch", "-q", "develop")
    quiet(shim_repo, "merge", "-q", "--no-ff", "--no-edit", "feature/w")
    quiet(shim_repo, "push", "-q", "--no-verify", "origin", "develop", "feature/w")
    name = "hotfix/cr\u200bash"
    branch_with_commit(shim_repo, name, "develop", "fix.py")
    refused = shim_repo.git("push", "origin", name, check=False)
    fix = fix_of(refused, "branch-origin")
    assert "\u200b" not in refused.text and "\\u200b" not in fix, fix
    paste(shim_repo, fix)
    assert shim_repo.git("push", "origin", name, check=False).code == 0


def test_tests_before_merge_at_pre_push(shim_repo: Repo, tmp_path: Path) -> None:
    """A merge made with --no-verify fails the checks at push: the fix reproduces the failure;
    undone, repaired on the feature and merged again, the same push passes."""
    with_checks(shim_repo)
    add_bare_remote(shim_repo, tmp_path / "origin.git")
    quiet(shim_repo, "merge", "-q", "--no-ff", "--no-edit", "feature/bad")
    refused = shim_repo.git("push", "origin", "develop", check=False)
    fix = fix_of(refused, "tests-before-merge")
    try:
        paste(shim_repo, fix)
        raise RuntimeError("the check's command passed on the broken tree")
    except AssertionError as failed:
        assert "fix failed when pasted" in str(failed)
    shim_repo.git("reset", "-q", "--keep", "HEAD~1")
    shim_repo.git("switch", "-q", "feature/bad")
    shim_repo.git("rm", "-q", "src/broken.py")
    shim_repo.git("commit", "-qm", "Repair")
    shim_repo.git("switch", "-q", "develop")
    shim_repo.git("merge", "-q", "--no-ff", "--no-edit", "feature/bad")
    paste(shim_repo, fix)
    assert shim_repo.git("push", "origin", "develop", check=False).code == 0


def test_merge_target_catch_up_of_a_frozen_release(shim_repo: Repo) -> None:
    """develop merged into a cut release: the fix aborts and puts the user on the release;
    taking the one fix by cherry-pick, as its comment says, is a commit the hooks accept."""
    branch_with_commit(shim_repo, "release/1.0", "develop")
    fixed = branch_with_commit(shim_repo, "feature/fix", "develop", "fix.py")
    quiet(shim_repo, "switch", "-q", "develop")
    quiet(shim_repo, "merge", "-q", "--no-ff", "--no-edit", "feature/fix")
    quiet(shim_repo, "switch", "-q", "release/1.0")
    refused = shim_repo.git("merge", "--no-ff", "--no-edit", "develop", check=False)
    fix = fix_of(refused, "merge-target")
    paste(shim_repo, fix)
    assert "git cherry-pick -x <sha>" in fix.split("#", 1)[1]
    assert shim_repo.git("cherry-pick", "-x", fixed, check=False).code == 0
    assert shim_repo.git("branch", "--show-current").out.strip() == "release/1.0"
