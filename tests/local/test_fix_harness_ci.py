"""Fixes `flowwarden ci` prints for a push that already landed: what the pusher does in
their own repository (pasted there, tests/fixkit.py), or words where only a maintainer can
act; either way, followed, the next CI run of the same kind passes."""
from __future__ import annotations

from pathlib import Path

from ci.cikit import ZERO, Server, github_push
from fixkit import assert_words, fix_of, paste
from fwkit import Repo, Result


def ci_push(server: Server, tmp_path: Path, name: str, branch: str, before: str,
            after: str, forced: bool = False) -> Result:
    """`flowwarden ci` in a fresh clone, for GitHub's push event of `branch`."""
    clone = server.clone(tmp_path / name)
    return clone.fw("ci", env=github_push(clone.env, tmp_path, branch, before, after, forced))


def test_branch_name_in_ci(tmp_path: Path, env: dict[str, str]) -> None:
    server = Server(tmp_path, env)
    dev = server.dev
    dev.git("switch", "-q", "-c", "Login-Fix", "develop")
    dev.commit_file("login.py", "x = 1\n", "Fix login", "--no-verify")
    dev.git("push", "-q", "origin", "Login-Fix")
    refused = ci_push(server, tmp_path, "ci1", "Login-Fix", ZERO, dev.sha())
    paste(dev, fix_of(refused, "branch-name"))
    names = Repo(server.bare, env).git("branch", "--format=%(refname:short)").out.split()
    assert "Login-Fix" not in names and "feature/login-fix" in names
    assert ci_push(server, tmp_path, "ci2", "feature/login-fix", ZERO, dev.sha()).code == 0


def test_protected_history_in_ci_is_words_a_maintainer_follows(tmp_path: Path,
                                                                env: dict[str, str]) -> None:
    server = Server(tmp_path, env)
    dev = server.dev
    dev.git("switch", "-q", "develop")
    old = dev.sha()
    dev.commit_file("hack.py", "x = 1\n", "Hack", "--no-verify")
    new = dev.sha()
    dev.git("push", "-q", "origin", "develop")
    fix = fix_of(ci_push(server, tmp_path, "ci1", "develop", old, new), "protected-history")
    assert_words(fix, env)
    assert old[:12] in fix and new[:12] in fix
    dev.git("push", "-q", "--force", "origin", f"{old}:refs/heads/develop")  # the maintainer
    dev.git("switch", "-q", "-c", "feature/hack", new)
    dev.git("switch", "-q", "develop")
    dev.git("reset", "-q", "--keep", old)
    dev.git("merge", "-q", "--no-ff", "--no-verify", "--no-edit", "feature/hack")
    dev.git("push", "-q", "origin", "feature/hack", "develop")
    assert ci_push(server, tmp_path, "ci2", "develop", old, dev.sha()).code == 0


def test_force_push_in_ci_is_words_a_maintainer_follows(tmp_path: Path,
                                                         env: dict[str, str]) -> None:
    server = Server(tmp_path, env)
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dev.git("switch", "-q", "-c", "feature/x")
    dev.commit_file("x.py", "x = 1\n", "Add x", "--no-verify")
    dev.git("switch", "-q", "develop")
    dev.git("merge", "-q", "--no-ff", "--no-verify", "--no-edit", "feature/x")
    dev.git("push", "-q", "origin", "feature/x", "develop")
    published = dev.sha()
    dev.git("commit", "-q", "--amend", "--no-edit", "--no-verify", "--trailer", "Reviewed: Bo")
    dev.git("push", "-q", "--force", "origin", "develop")
    # A CI clone lacks the overwritten tip: fetch it by name, as a forge serves it.
    Repo(server.bare, env).git("config", "uploadpack.allowAnySHA1InWant", "true")
    clone = server.clone(tmp_path / "ci1")
    clone.git("fetch", "-q", "origin", published)
    fix = fix_of(clone.fw("ci", env=github_push(clone.env, tmp_path, "develop", published,
                                                dev.sha(), True)), "force-push")
    assert_words(fix, env)
    restore = fix.split("(", 1)[1].split(")", 1)[0]
    assert restore.startswith("git push --force-with-lease=")
    paste(dev, restore)  # the maintainer's command, from the fix
    assert Repo(server.bare, env).sha("develop") == published


def test_branch_delete_in_ci_puts_the_branch_back(tmp_path: Path, env: dict[str, str]) -> None:
    """The deletion landed, and the pusher's origin/release/1.0 went with it: the fix pushes
    the old tip back; merged into develop as its comment says, the deletion then passes."""
    server = Server(tmp_path, env)
    dev = server.dev
    dev.git("switch", "-q", "-c", "release/1.0", "develop")
    dev.commit_file("VERSION", "1.0\n", "Bump to 1.0", "--no-verify")
    tip = dev.sha()
    dev.git("push", "-q", "origin", "release/1.0")
    dev.git("switch", "-q", "main")
    dev.git("merge", "-q", "--no-ff", "--no-verify", "--no-edit", "release/1.0")
    dev.git("push", "-q", "origin", "main")
    dev.git("branch", "-q", "-D", "release/1.0")
    dev.git("push", "-q", "origin", "--delete", "release/1.0")
    refused = ci_push(server, tmp_path, "ci1", "release/1.0", tip, ZERO)
    fix = fix_of(refused, "branch-delete")
    paste(dev, fix)
    assert "merge it into develop, then delete it" in fix
    dev.git("fetch", "-q", "origin")
    dev.git("switch", "-q", "develop")
    dev.git("merge", "-q", "--no-ff", "--no-verify", "--no-edit", "origin/release/1.0")
    dev.git("push", "-q", "origin", "develop")
    dev.git("push", "-q", "origin", "--delete", "release/1.0")
    assert ci_push(server, tmp_path, "ci2", "release/1.0", tip, ZERO).code == 0


def test_branch_origin_in_ci(tmp_path: Path, env: dict[str, str]) -> None:
    """A hotfix cut from develop landed: the fix rebases it onto main and replaces it on
    the server; CI on that push passes."""
    server = Server(tmp_path, env)
    dev = server.dev
    dev.git("switch", "-q", "-c", "feature/w", "develop")
    dev.commit_file("w.py", "w = 1\n", "Add w", "--no-verify")
    dev.git("switch", "-q", "develop")
    dev.git("merge", "-q", "--no-ff", "--no-verify", "--no-edit", "feature/w")
    dev.git("push", "-q", "origin", "develop", "feature/w")
    dev.git("switch", "-q", "-c", "hotfix/crash", "develop")
    dev.commit_file("fix.py", "f = 1\n", "Fix the crash", "--no-verify")
    dev.git("push", "-q", "origin", "hotfix/crash")
    refused = ci_push(server, tmp_path, "ci1", "hotfix/crash", ZERO, dev.sha())
    paste(dev, fix_of(refused, "branch-origin"))
    assert ci_push(server, tmp_path, "ci2", "hotfix/crash", ZERO, dev.sha()).code == 0
    assert Repo(server.bare, env).sha("hotfix/crash") == dev.sha("hotfix/crash")


def test_a_merge_whose_branch_the_forge_deleted_is_words_that_work(tmp_path: Path,
                                                                    env: dict[str, str]) -> None:
    """A hotfix merged into main, its branch deleted on merge (as forges do), then CI on the
    push: recreating the branch is no fix. The words point at the policy setting, and followed
    (on main, where the forge requires pull requests) the next run passes."""
    server = Server(tmp_path, env)
    dev = server.dev
    dev.git("switch", "-q", "-c", "hotfix/crash", "main")
    dev.commit_file("crash.py", "x = 1\n", "Fix the crash", "--no-verify")
    dev.git("switch", "-q", "main")
    before = dev.sha()
    dev.git("merge", "-q", "--no-ff", "--no-verify", "-m",
            "Merge pull request #7 from ada/hotfix/crash", "hotfix/crash")
    dev.git("push", "-q", "origin", "hotfix/crash", "main")
    dev.git("push", "-q", "origin", "--delete", "hotfix/crash")  # the forge, on merge
    refused = ci_push(server, tmp_path, "ci1", "main", before, dev.sha())
    fix = fix_of(refused, "protected-history")
    assert_words(fix, env)
    assert "pull request" in fix and "merges.subject_only: {ci: accept}" in fix, fix
    assert "refs/heads/hotfix/crash" not in fix, fix
    # the maintainers' choice, made on main through a release, as the policy says
    dev.git("switch", "-q", "-c", "release/9.9", "main")
    dev.write(".flowwarden.yaml", "extends: gitflow-ml\nmerges:\n  subject_only: {ci: accept}\n")
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "CI accepts merge subjects on push events", "--no-verify")
    dev.git("switch", "-q", "main")
    dev.git("merge", "-q", "--no-ff", "--no-verify", "release/9.9")
    dev.git("push", "-q", "origin", "main", "release/9.9")
    policy_set = dev.sha()
    dev.git("switch", "-q", "-c", "hotfix/again", "main")
    dev.commit_file("again.py", "x = 2\n", "Fix it again", "--no-verify")
    dev.git("switch", "-q", "main")
    dev.git("merge", "-q", "--no-ff", "--no-verify", "-m",
            "Merge pull request #8 from ada/hotfix/again", "hotfix/again")
    dev.git("push", "-q", "origin", "hotfix/again", "main")
    dev.git("push", "-q", "origin", "--delete", "hotfix/again")
    passed = ci_push(server, tmp_path, "ci2", "main", policy_set, dev.sha())
    assert passed.code == 0, passed.text
