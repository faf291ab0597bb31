"""Every printed fix, pasted into a shell in the user's state, works: the harness runs the fix
line with `sh -c` in the repository, then retries the refused operation, which passes."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from corekit import add_bare_remote, branch_with_commit, quiet  # noqa: E402

from fixkit import fix_of, paste  # noqa: E402
from fwkit import Repo, make_repo  # noqa: E402


def test_protected_branch_fix_then_the_same_commit_passes(shim_repo: Repo) -> None:
    quiet(shim_repo, "switch", "-q", "develop")
    shim_repo.write("README.md", "changed\n")
    refused = shim_repo.git("commit", "-a", "-m", "tweak", check=False)
    paste(shim_repo, fix_of(refused, "protected-branch"))
    assert shim_repo.git("commit", "-a", "-m", "tweak", check=False).code == 0
    assert shim_repo.git("branch", "--show-current").out.strip().startswith("feature/")


def test_merge_target_fix_names_master(tmp_path: Path, env: dict[str, str]) -> None:
    """On a repository whose production branch is master, the fix says master, not main."""
    repo = make_repo(tmp_path / "m", env, main="master")
    repo.install_shims()
    branch_with_commit(repo, "release/1.0", "develop")
    branch_with_commit(repo, "feature/x", "develop")
    refused = repo.git("merge", "--no-ff", "--no-edit", "release/1.0", check=False)
    fix = fix_of(refused, "merge-target")
    assert "main" not in fix.replace("master", ""), fix
    paste(repo, fix)
    assert repo.git("branch", "--show-current").out.strip() == "master"
    assert len(repo.git("log", "-1", "--format=%P").out.split()) == 2


def test_protected_history_fix_on_the_checked_out_branch(shim_repo: Repo, tmp_path: Path) -> None:
    """`git branch -f develop origin/develop` fails while develop is checked out; the fix works."""
    add_bare_remote(shim_repo, tmp_path / "origin.git")
    quiet(shim_repo, "switch", "-q", "develop")
    shim_repo.write("hack.py", "x\n")
    shim_repo.git("add", "hack.py")
    shim_repo.git("commit", "--no-verify", "-m", "hack")
    refused = shim_repo.git("push", "origin", "develop", check=False)
    paste(shim_repo, fix_of(refused, "protected-history"))
    assert shim_repo.git("push", "origin", "develop", check=False).code == 0
    kept = shim_repo.git("for-each-ref", "--format=%(subject)", "refs/heads/feature/").out
    assert kept.split() == ["hack"]
