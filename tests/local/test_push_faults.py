"""Faults a new user met at push, with real git and the real hooks: chained hooks get git's
stdin byte for byte, a plain push behind the remote is left to git, force-push and
protected-history agree on one fix, a release or hotfix with nothing to lose can be deleted,
and `flowwarden install` says in which order the hooks run."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from corekit import (  # noqa: E402
    add_bare_remote,
    assert_blocked,
    assert_passes,
    branch_with_commit,
    merge_quiet,
    quiet,
    remote_sha,
    rules_in,
)

from fwkit import Repo, pre_commit  # noqa: E402

ZERO = "0" * 40
RECORD = "#!/bin/sh\ncat > .git/chained-stdin\n"


def chained(repo: Repo, tmp_path: Path, script: str = RECORD) -> Repo:
    """A previous pre-push hook in .git/hooks, then `flowwarden install` chaining it."""
    origin = add_bare_remote(repo, tmp_path / "origin.git")
    hook = repo.path / ".git" / "hooks" / "pre-push"
    hook.write_text(script)
    hook.chmod(0o755)
    installed = repo.fw("install")
    assert installed.code == 0, installed.text
    return origin


def test_chained_pre_push_gets_git_stdin_byte_for_byte(repo: Repo, tmp_path: Path) -> None:
    chained(repo, tmp_path)
    seen = repo.path / ".git" / "chained-stdin"
    up_to_date = repo.git("push", "origin", "develop", check=False)
    assert up_to_date.code == 0, up_to_date.text
    assert seen.read_bytes() == b""  # nothing to send: no blank line
    tip = branch_with_commit(repo, "feature/x", "develop")
    pushed = repo.git("push", "origin", "feature/x", check=False)
    assert pushed.code == 0, pushed.text
    assert seen.read_bytes() == (f"refs/heads/feature/x {tip} refs/heads/feature/x "
                                 f"{ZERO}\n").encode()


def test_chained_pre_commit_framework_survives_a_push_with_nothing_to_send(
        repo: Repo, tmp_path: Path) -> None:
    repo.write(".pre-commit-config.yaml", "repos: []\n")
    quiet(repo, "add", ".pre-commit-config.yaml")
    quiet(repo, "commit", "-qm", "Add pre-commit config")
    quiet(repo, "branch", "-f", "develop", "main")
    framework = pre_commit(repo, "install", "--hook-type", "pre-push")
    assert framework.code == 0, framework.text
    add_bare_remote(repo, tmp_path / "origin.git")
    installed = repo.fw("install")
    assert installed.code == 0, installed.text
    result = repo.git("push", "origin", "develop", check=False)
    assert result.code == 0 and "Everything up-to-date" in result.text, result.text
    assert "ValueError" not in result.text and "unexpected error" not in result.text


def test_install_says_the_chained_pre_push_hook_runs_first(repo: Repo, tmp_path: Path) -> None:
    for stage in ("pre-push", "pre-commit"):
        hook = repo.path / ".git" / "hooks" / stage
        hook.write_text("#!/bin/sh\nexit 0\n")
        hook.chmod(0o755)
    out = repo.fw("install").out
    assert "pre-push (the previous hook runs before it" in out, out
    assert "pre-commit (the previous hook runs after it" in out, out


# --- a push behind the remote -------------------------------------------------------------


def behind(repo: Repo, tmp_path: Path, own_commit: bool = False) -> tuple[Repo, str]:
    """develop moved on the server by a teammate; this clone never fetched it."""
    repo.install_shims()
    origin = add_bare_remote(repo, tmp_path / "origin.git")
    mate = Repo(tmp_path / "mate", repo.env)
    quiet(repo, "clone", "-q", str(origin.path), str(mate.path))
    quiet(mate, "switch", "-q", "develop")
    mate.write("mate.txt", "theirs\n")
    quiet(mate, "add", "mate.txt")
    quiet(mate, "commit", "-qm", "Their change")
    quiet(mate, "push", "-q", "--no-verify", "origin", "develop")
    quiet(repo, "switch", "-q", "develop")
    quiet(repo, "config", "branch.develop.mergeOptions", "--no-ff")
    if own_commit:
        repo.write("mine.txt", "mine\n")
        quiet(repo, "add", "mine.txt")
        quiet(repo, "commit", "-qm", "My change")
    return origin, mate.sha()


def test_plain_push_behind_the_remote_is_left_to_git(repo: Repo, tmp_path: Path) -> None:
    origin, theirs = behind(repo, tmp_path)
    result = repo.git("push", "origin", "develop", check=False)
    assert result.code != 0, result.text
    assert "force-push" not in rules_in(result.text), result.text
    assert "fatal:" not in result.text.replace("fatal: the remote end hung up", ""), result.text
    assert "Not a valid object name" not in result.text, result.text
    assert remote_sha(origin, "develop") == theirs


def test_forced_push_behind_the_remote_is_refused_with_a_fast_forward_pull(
        repo: Repo, tmp_path: Path) -> None:
    origin, theirs = behind(repo, tmp_path)
    result = repo.git("push", "--force", "origin", "develop", check=False)
    assert_blocked(result, "force-push", "develop", "git pull --ff-only origin develop")
    assert "Not a valid object name" not in result.text, result.text
    assert remote_sha(origin, "develop") == theirs
    fix = next(line.split("fix:", 1)[1] for line in result.text.splitlines() if "fix:" in line
               and "pull" in line)
    ran = subprocess.run(["sh", "-c", fix.split("  #")[0]], cwd=repo.path, env=repo.env,
                         capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert repo.sha("develop") == theirs  # a fast-forward, no merge commit


def test_forced_push_with_a_plus_refspec_is_still_refused(repo: Repo, tmp_path: Path) -> None:
    origin, theirs = behind(repo, tmp_path, own_commit=True)
    result = repo.git("push", "origin", "+develop", check=False)
    assert_blocked(result, "force-push", "develop", "git pull --no-rebase origin develop")
    assert "Not a valid object name" not in result.text, result.text
    assert remote_sha(origin, "develop") == theirs


# --- an amended merge on main, force-pushed -------------------------------------------------


def test_amended_release_merge_gets_one_fix(repo: Repo, tmp_path: Path) -> None:
    repo.install_shims()
    origin = add_bare_remote(repo, tmp_path / "origin.git")
    branch_with_commit(repo, "release/1.0", "develop")
    quiet(repo, "push", "-q", "--no-verify", "origin", "release/1.0")
    published = merge_quiet(repo, "main", "release/1.0")
    merge_quiet(repo, "develop", "release/1.0")
    quiet(repo, "push", "-q", "--no-verify", "origin", "main", "develop")
    quiet(repo, "push", "-q", "--no-verify", "origin", "--delete", "release/1.0")
    quiet(repo, "branch", "-q", "-D", "release/1.0")
    quiet(repo, "switch", "-q", "main")
    repo.write("NOTES.md", "forgotten\n")
    quiet(repo, "add", "NOTES.md")
    quiet(repo, "commit", "-q", "--amend", "--no-edit")
    result = repo.git("push", "--force", "origin", "main", check=False)
    assert_blocked(result, "force-push", "main", f"git reset --keep {published[:12]}")
    assert "refs/heads/release/1.0" not in result.text, result.text
    assert remote_sha(origin, "main") == published


# --- deleting a release or hotfix with nothing to lose ------------------------------------


def test_release_without_commits_of_its_own_can_be_deleted(repo: Repo, tmp_path: Path) -> None:
    repo.install_shims()
    branch_with_commit(repo, "feature/a", "develop")
    merge_quiet(repo, "develop", "feature/a")
    origin = add_bare_remote(repo, tmp_path / "origin.git")
    quiet(repo, "branch", "release/2.0", "develop")
    quiet(repo, "push", "-q", "--no-verify", "origin", "release/2.0")
    assert_passes(repo.git("push", "origin", "--delete", "release/2.0", check=False))
    assert remote_sha(origin, "release/2.0") is None


def test_hotfix_message_names_only_targets_that_exist(repo: Repo, tmp_path: Path) -> None:
    repo.install_shims()
    origin = add_bare_remote(repo, tmp_path / "origin.git")
    branch_with_commit(repo, "hotfix/h", "main")
    quiet(repo, "push", "-q", "--no-verify", "origin", "hotfix/h")
    result = repo.git("push", "origin", "--delete", "hotfix/h", check=False)
    assert_blocked(result, "branch-delete", "hotfix/h", "main and develop before")
    assert "release" not in result.text, result.text
    assert remote_sha(origin, "hotfix/h") is not None


def test_hotfix_merged_into_main_only_still_cannot_be_deleted(repo: Repo, tmp_path: Path) -> None:
    repo.install_shims()
    origin = add_bare_remote(repo, tmp_path / "origin.git")
    branch_with_commit(repo, "hotfix/h", "main")
    quiet(repo, "push", "-q", "--no-verify", "origin", "hotfix/h")
    merge_quiet(repo, "main", "hotfix/h")
    quiet(repo, "push", "-q", "--no-verify", "origin", "main")
    result = repo.git("push", "origin", "--delete", "hotfix/h", check=False)
    assert_blocked(result, "branch-delete", "hotfix/h", "has not reached develop")
    assert remote_sha(origin, "hotfix/h") is not None


def test_a_configured_plus_refspec_forces_and_is_refused(repo: Repo, tmp_path: Path) -> None:
    origin, theirs = behind(repo, tmp_path)
    quiet(repo, "config", "remote.origin.push", "+refs/heads/develop:refs/heads/develop")
    result = repo.git("push", "origin", check=False)
    assert_blocked(result, "force-push", "develop", "git pull --ff-only origin develop")
    assert remote_sha(origin, "develop") == theirs
