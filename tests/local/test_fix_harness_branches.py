"""Every branch, merge and history rule's printed fix, pasted at every stage that refuses:
scenario, refused, paste the fix (tests/fixkit.py), retry the same operation, it passes.
`stage` "pre-push" runs the developer's shims; "pre-receive" runs the server's hook with the
developer's hooks off, as a pusher who skipped them."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from corekit import add_bare_remote, branch_with_commit, merge_quiet, quiet  # noqa: E402

from fixkit import assert_words, fix_of, paste  # noqa: E402
from fwkit import Repo, Result, make_repo  # noqa: E402

PUSH_STAGES = ("pre-push", "pre-receive")


class Pushing:
    """A developer repository and its origin, judged at `stage`."""

    def __init__(self, tmp_path: Path, env: dict[str, str], stage: str) -> None:
        self.tmp = tmp_path
        self.stage = stage
        self.dev = make_repo(tmp_path / "dev", env)
        self.origin = add_bare_remote(self.dev, tmp_path / "origin.git",
                                      server_hooks=stage == "pre-receive")
        if stage == "pre-push":
            self.dev.install_shims()

    def push(self, *args: str) -> Result:
        return self.dev.git("push", "origin", *args, check=False)

    def other(self) -> Repo:
        """A teammate's clone, hooks off, under the teammate's name."""
        env = {**self.dev.env, "GIT_AUTHOR_NAME": "Bo", "GIT_AUTHOR_EMAIL": "bo@example.com"}
        other = Repo(self.tmp / "other", env)
        Repo(self.tmp, self.dev.env).git("clone", "-q", self.origin.path.as_uri(), "other")
        return other

    def remote_sha(self, branch: str) -> str:
        return self.origin.git("rev-parse", f"refs/heads/{branch}").out.strip()


@pytest.fixture(params=PUSH_STAGES)
def pushing(request: pytest.FixtureRequest, tmp_path: Path, env: dict[str, str]) -> Pushing:
    return Pushing(tmp_path, env, request.param)


def published_merge(p: Pushing, feature: str = "feature/x") -> str:
    """develop holds a merge of `feature`, pushed with the feature; returns its sha."""
    branch_with_commit(p.dev, feature, "develop")
    merge = merge_quiet(p.dev, "develop", feature, f"Merge branch '{feature}' into develop")
    quiet(p.dev, "push", "-q", "--no-verify", "origin", feature, "develop")
    return merge


# --- force-push -------------------------------------------------------------------------


def test_force_push_after_amending_a_published_merge_keeps_it(pushing: Pushing) -> None:
    """The amended merge changed no file: the fix puts develop back, with no pull that would
    merge the rewritten commit back in."""
    merge = published_merge(pushing)
    quiet(pushing.dev, "commit", "--amend", "--no-edit", "--trailer", "Reviewed-by: Bo <b@x>")
    refused = pushing.push("--force", "develop")
    fix = fix_of(refused, "force-push")
    assert "pull" not in fix, fix
    paste(pushing.dev, fix)
    assert pushing.push("--force", "develop").code == 0
    assert pushing.remote_sha("develop") == merge
    assert pushing.dev.git("rev-list", "--count", "develop").out.strip() == "3"


def test_force_push_after_changing_a_published_merge_lands_the_change(pushing: Pushing) -> None:
    """The rewrite changed a file: the published merge stays, the change comes on top through
    a feature branch merged with --no-ff."""
    merge = published_merge(pushing)
    pushing.dev.write("late.py", "late = 1\n")
    quiet(pushing.dev, "add", "late.py")
    quiet(pushing.dev, "commit", "--amend", "--no-edit")
    refused = pushing.push("--force", "develop")
    fix = fix_of(refused, "force-push")
    assert "pull" not in fix, fix
    paste(pushing.dev, fix)
    assert pushing.push("--force", "develop").code == 0
    tip = pushing.remote_sha("develop")
    assert pushing.dev.git("merge-base", "--is-ancestor", merge, tip, check=False).code == 0
    assert pushing.origin.git("cat-file", "-e", f"{tip}:late.py", check=False).code == 0
    assert pushing.dev.git("rev-list", "--count", "develop").out.strip() == "5"


def test_force_push_over_a_teammates_push_integrates_it(pushing: Pushing) -> None:
    """Someone else moved develop: the fix pulls their work in and pushes, keeping both."""
    published_merge(pushing)
    other = pushing.other()
    quiet(other, "switch", "-q", "develop")
    branch_with_commit(other, "feature/z", "develop")
    theirs = merge_quiet(other, "develop", "feature/z", "Merge branch 'feature/z' into develop")
    quiet(other, "push", "-q", "origin", "feature/z", "develop")
    branch_with_commit(pushing.dev, "feature/y", "develop")
    merge_quiet(pushing.dev, "develop", "feature/y", "Merge branch 'feature/y' into develop")
    quiet(pushing.dev, "push", "-q", "origin", "feature/y")
    refused = pushing.push("--force", "develop")
    fix = fix_of(refused, "force-push")
    assert "pull" in fix and "reset" not in fix, fix
    paste(pushing.dev, fix)
    assert pushing.push("--force", "develop").code == 0
    tip = pushing.remote_sha("develop")
    assert pushing.dev.git("merge-base", "--is-ancestor", theirs, tip, check=False).code == 0
    assert pushing.dev.git("merge-base", "--is-ancestor", "feature/y", tip, check=False).code == 0


# --- branch-name --------------------------------------------------------------------------


def test_branch_name_at_commit(shim_repo: Repo) -> None:
    quiet(shim_repo, "switch", "-q", "-c", "Login-Fix", "develop")
    shim_repo.write("README.md", "changed\n")
    refused = shim_repo.git("commit", "-a", "-m", "Fix login", check=False)
    paste(shim_repo, fix_of(refused, "branch-name"))
    assert shim_repo.git("commit", "-a", "-m", "Fix login", check=False).code == 0
    assert shim_repo.git("branch", "--show-current").out.strip() == "feature/login-fix"


def test_branch_name_at_checkout_warns_with_a_fix(shim_repo: Repo) -> None:
    warned = shim_repo.git("switch", "-c", "Login-Fix", "develop")
    paste(shim_repo, fix_of(warned, "branch-name", refused=False))
    again = shim_repo.git("switch", "feature/login-fix")
    assert "branch-name" not in again.text, again.text


def test_branch_name_at_push(pushing: Pushing) -> None:
    """The refused push named the old branch: the fix renames it and pushes the new name."""
    branch_with_commit(pushing.dev, "Login-Fix", "develop")
    refused = pushing.push("Login-Fix")
    paste(pushing.dev, fix_of(refused, "branch-name"))
    assert pushing.remote_sha("feature/login-fix") == pushing.dev.sha("feature/login-fix")
    assert pushing.push("feature/login-fix").code == 0


# --- protected-branch ---------------------------------------------------------------------


def test_protected_branch_fix_when_its_suggested_branch_exists(shim_repo: Repo) -> None:
    quiet(shim_repo, "branch", "feature/my-topic", "develop")
    quiet(shim_repo, "switch", "-q", "develop")
    shim_repo.write("README.md", "changed\n")
    refused = shim_repo.git("commit", "-a", "-m", "tweak", check=False)
    paste(shim_repo, fix_of(refused, "protected-branch"))
    assert shim_repo.git("commit", "-a", "-m", "tweak", check=False).code == 0
    assert shim_repo.git("branch", "--show-current").out.strip().startswith("feature/")


def test_protected_branch_created_from_unreviewed_work(pushing: Pushing) -> None:
    branch_with_commit(pushing.dev, "feature/f", "develop")
    refused = pushing.push("feature/f:refs/heads/master")
    paste(pushing.dev, fix_of(refused, "protected-branch"))
    assert pushing.remote_sha("master") == pushing.remote_sha("main")


# --- branch-origin ------------------------------------------------------------------------


def hotfix_from_develop(repo: Repo) -> None:
    branch_with_commit(repo, "feature/w", "develop")
    merge_quiet(repo, "develop", "feature/w", "Merge branch 'feature/w' into develop")


def test_branch_origin_at_checkout_warns_with_a_fix(shim_repo: Repo) -> None:
    hotfix_from_develop(shim_repo)
    warned = shim_repo.git("switch", "-c", "hotfix/crash", "develop")
    paste(shim_repo, fix_of(warned, "branch-origin", refused=False))
    again = shim_repo.git("switch", "hotfix/crash")
    assert "branch-origin" not in again.text, again.text


def test_branch_origin_at_push(pushing: Pushing) -> None:
    hotfix_from_develop(pushing.dev)
    quiet(pushing.dev, "push", "-q", "--no-verify", "origin", "develop", "feature/w")
    quiet(pushing.dev, "switch", "-q", "main")
    quiet(pushing.dev, "branch", "-D", "develop")  # a clone has only main and origin/develop
    branch_with_commit(pushing.dev, "hotfix/crash", "origin/develop")
    refused = pushing.push("hotfix/crash")
    paste(pushing.dev, fix_of(refused, "branch-origin"))
    assert pushing.push("hotfix/crash").code == 0


def test_branch_origin_of_an_unrelated_root_at_push(pushing: Pushing) -> None:
    quiet(pushing.dev, "switch", "-q", "--orphan", "feature/alien")
    pushing.dev.write("alien.py", "a = 1\n")
    quiet(pushing.dev, "add", "alien.py")
    quiet(pushing.dev, "commit", "-qm", "Alien root")
    refused = pushing.push("feature/alien")
    paste(pushing.dev, fix_of(refused, "branch-origin"))
    assert pushing.push("feature/alien").code == 0


def test_branch_origin_catch_up_of_a_frozen_release(pushing: Pushing) -> None:
    branch_with_commit(pushing.dev, "release/1.0", "develop")
    quiet(pushing.dev, "push", "-q", "--no-verify", "origin", "release/1.0")
    hotfix_from_develop(pushing.dev)
    quiet(pushing.dev, "push", "-q", "--no-verify", "origin", "develop", "feature/w")
    merge_quiet(pushing.dev, "release/1.0", "develop", "Merge branch 'develop' into release/1.0")
    refused = pushing.push("release/1.0")
    paste(pushing.dev, fix_of(refused, "branch-origin"))
    assert pushing.push("release/1.0").code == 0


# --- branch-delete ------------------------------------------------------------------------


def test_branch_delete_of_an_unmerged_release(pushing: Pushing) -> None:
    """The local release branch is gone (deleted first, as users do): the fix still works."""
    branch_with_commit(pushing.dev, "release/1.0", "develop")
    quiet(pushing.dev, "push", "-q", "--no-verify", "origin", "release/1.0")
    quiet(pushing.dev, "switch", "-q", "main")
    merge_quiet(pushing.dev, "main", "release/1.0", "Merge branch 'release/1.0'")
    quiet(pushing.dev, "push", "-q", "--no-verify", "origin", "main")
    quiet(pushing.dev, "branch", "-D", "release/1.0", "develop")
    refused = pushing.push("--delete", "release/1.0")
    paste(pushing.dev, fix_of(refused, "branch-delete"))
    assert pushing.push("--delete", "release/1.0").code == 0


def test_branch_delete_of_a_protected_branch_is_words(pushing: Pushing) -> None:
    refused = pushing.push("--delete", "develop")
    fix = fix_of(refused, "branch-delete")
    assert_words(fix, pushing.dev.env)
    assert pushing.remote_sha("develop")  # keeping the branch is all there is to do


# --- protected-history --------------------------------------------------------------------


def test_protected_history_of_a_direct_commit(pushing: Pushing) -> None:
    """The fix's comment says what to do next; done by hand, the same push passes."""
    quiet(pushing.dev, "switch", "-q", "develop")
    pushing.dev.write("hack.py", "x\n")
    quiet(pushing.dev, "add", "hack.py")
    quiet(pushing.dev, "commit", "-qm", "hack")
    refused = pushing.push("develop")
    fix = fix_of(refused, "protected-history")
    paste(pushing.dev, fix)
    follow_comment(pushing.dev, fix)
    assert pushing.push("develop").code == 0
    assert pushing.origin.git("cat-file", "-e", "develop:hack.py", check=False).code == 0


def follow_comment(repo: Repo, fix: str) -> None:
    """Do what a fix's `# then merge X with --no-ff and push it` comment says."""
    comment = fix.split("#", 1)[1]
    import re

    branch = re.search(r"merge (\S+) with --no-ff", comment)
    assert branch, fix
    repo.git("merge", "--no-ff", "--no-edit", branch.group(1).strip("'"))
    if "push" in comment:
        repo.git("push", "origin", branch.group(1).strip("'"))


# --- ref-object ---------------------------------------------------------------------------


def test_ref_object_of_a_tag_naming_a_blob(pushing: Pushing) -> None:
    blob = pushing.dev.git("hash-object", "-w", "--stdin", stdin="a,b\n1,2\n").out.strip()
    quiet(pushing.dev, "tag", "data", blob)
    refused = pushing.push("data")
    paste(pushing.dev, fix_of(refused, "ref-object"))
    assert pushing.push("--tags").code == 0
    assert pushing.origin.git("tag").out.strip() == ""


def test_protected_history_of_a_new_protected_branch_is_words(pushing: Pushing) -> None:
    """A develop the server does not have yet: no remote-tracking branch to reset to, so the
    fix says in words where to start it; done by hand, the push passes."""
    pushing.origin.git("update-ref", "-d", "refs/heads/develop")
    quiet(pushing.dev, "fetch", "-q", "--prune", "origin")
    quiet(pushing.dev, "switch", "-q", "develop")
    pushing.dev.write("hack.py", "x\n")
    quiet(pushing.dev, "add", "hack.py")
    quiet(pushing.dev, "commit", "-qm", "hack")
    refused = pushing.push("develop")
    fix = fix_of(refused, "protected-history")
    assert_words(fix, pushing.dev.env)
    assert fix.startswith("start develop from a commit a main branch holds"), fix
    quiet(pushing.dev, "branch", "feature/hack", "develop")
    quiet(pushing.dev, "reset", "-q", "--keep", "main")
    assert pushing.push("develop").code == 0  # started where main is
    pushing.dev.git("merge", "--no-ff", "--no-edit", "feature/hack")
    assert pushing.push("feature/hack", "develop").code == 0
