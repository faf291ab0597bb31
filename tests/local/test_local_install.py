"""`flowwarden install` beside other hook managers: the hook it replaces keeps its name, its
arguments and its stdin; at pre-push it runs first, so DVC's `dvc push` comes before the
dvc-not-pushed check; a missing flowwarden is explained with a fix that installs it."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from corekit import add_bare_remote, assert_blocked, branch_with_commit, quiet  # noqa: E402

from fwkit import Repo, make_repo  # noqa: E402

#: A hook as husky writes them: it finds its script by its own directory and name.
HUSKY_H = """#!/usr/bin/env sh
n=$(basename "$0")
printf '%s|%s|%s|%s\\n' "$n" "$*" "$(cat)" "${FLOWWARDEN_HOOK_RAN-}" >> "${0%/*}/../seen"
"""
HUSKY_HOOK = '#!/usr/bin/env sh\n. "${0%/*}/h"\n'


def husky(repo: Repo) -> Path:
    hooks = repo.path / ".husky" / "_"
    hooks.mkdir(parents=True)
    (hooks / "h").write_text(HUSKY_H)
    for stage in ("pre-commit", "pre-push"):
        (hooks / stage).write_text(HUSKY_HOOK)
        (hooks / stage).chmod(0o755)
    repo.git("config", "core.hooksPath", ".husky/_")
    return hooks


def test_husky_hooks_run_under_their_own_name_with_args_and_stdin(repo: Repo,
                                                                  tmp_path: Path) -> None:
    add_bare_remote(repo, tmp_path / "origin.git")
    husky(repo)
    installed = repo.fw("install")
    assert installed.code == 0, installed.text
    branch_with_commit(repo, "feature/x", "develop")
    repo.write("a.txt", "a\n")
    repo.git("add", "a.txt")
    assert repo.git("commit", "-m", "a", check=False).code == 0
    pushed = repo.git("push", "origin", "feature/x", check=False)
    assert pushed.code == 0, pushed.text
    seen = (repo.path / ".husky" / "seen").read_text().splitlines()
    assert seen[0] == "pre-commit|||pre-commit"
    name, args, stdin, ran = seen[1].split("|")
    assert (name, ran) == ("pre-push", "pre-push")
    assert args.startswith("origin ") and stdin.startswith("refs/heads/feature/x ")


def test_chained_pre_push_runs_before_flowwarden(repo: Repo, tmp_path: Path) -> None:
    """A chained pre-push that refuses stops the push before flowwarden judges it; one that
    succeeds (DVC's `dvc push`) has done its work by the time flowwarden looks."""
    add_bare_remote(repo, tmp_path / "origin.git")
    hooks = repo.path / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "pre-push").write_text("#!/bin/sh\ntouch \"$(git rev-parse --git-dir)/dvc-pushed\"\n"
                                    "exit 0\n")
    (hooks / "pre-push").chmod(0o755)
    assert repo.fw("install").code == 0
    marker = repo.path / ".git" / "dvc-pushed"
    quiet(repo, "switch", "-q", "develop")
    repo.git("commit", "--no-verify", "--allow-empty", "-m", "direct")
    refused = repo.git("push", "origin", "develop", check=False)
    assert refused.code != 0 and "protected-history" in refused.text
    assert marker.exists(), "the chained pre-push ran after flowwarden's refusal, or never"


def test_missing_flowwarden_names_how_to_install_it(shim_repo: Repo) -> None:
    env = {"PATH": "/usr/bin:/bin", "FLOWWARDEN": "flowwarden-missing"}
    result = subprocess.run(["git", "commit", "--allow-empty", "-m", "x"], cwd=shim_repo.path,
                            env={**shim_repo.env, **env}, capture_output=True, text=True)
    assert result.returncode != 0
    assert 'pip install "flowwarden @ git+' in result.stderr
    assert "--no-verify" in result.stderr


def test_a_shared_hooks_path_is_left_to_its_owner(repo: Repo, tmp_path: Path) -> None:
    """`core.hooksPath` set globally to a team's hooks: install gives this repository its own
    hooks directory, where the shared hooks still run under their own names; the shared
    directory, and every other repository using it, are left as they were."""
    shared = tmp_path / "shared-hooks"
    shared.mkdir()
    log = tmp_path / "shared.log"
    for name in ("pre-commit", "post-commit"):
        (shared / name).write_text(f'#!/bin/sh\necho "$(basename "$0") $*" >> \'{log}\'\n')
        (shared / name).chmod(0o755)
    other = make_repo(tmp_path / "other", repo.env)
    repo.git("config", "--global", "core.hooksPath", str(shared))
    before = sorted(p.name for p in shared.iterdir())

    installed = repo.fw("install")
    assert installed.code == 0, installed.text
    assert "which flowwarden does not own" in installed.out
    assert sorted(p.name for p in shared.iterdir()) == before

    quiet(repo, "switch", "-q", "-c", "feature/x", "develop")
    assert repo.commit_file("a.txt").code == 0
    assert log.read_text().splitlines() == ["pre-commit ", "post-commit "]
    repo.git("switch", "-q", "develop")
    assert_blocked(repo.commit_file("b.txt"), "protected-branch")
    assert len(log.read_text().splitlines()) == 2, "the shared hook ran for a refused commit"
    assert other.commit_file("c.txt").code == 0, "flowwarden reached another repository"
    assert len(log.read_text().splitlines()) == 4

    assert repo.fw("install", "--uninstall").code == 0
    assert repo.git("config", "--local", "core.hooksPath", check=False).code != 0
    assert repo.commit_file("b.txt").code == 0
    assert len(log.read_text().splitlines()) == 6


def test_a_hooks_directory_linked_to_a_shared_one_is_left_as_it_was(repo: Repo,
                                                                    tmp_path: Path) -> None:
    """`.git/hooks` is a symlink to a team's shared directory: the shims go elsewhere, the
    shared directory gets nothing, and its hooks still run."""
    shared = tmp_path / "team-hooks"
    shared.mkdir()
    log = tmp_path / "team.log"
    (shared / "pre-commit").write_text(f'#!/bin/sh\necho "$(basename "$0")" >> \'{log}\'\n')
    (shared / "pre-commit").chmod(0o755)
    hooks = repo.path / ".git" / "hooks"
    shutil.rmtree(hooks)
    hooks.symlink_to(shared)
    before = {p.name: p.read_bytes() for p in shared.iterdir()}

    installed = repo.fw("install")
    assert installed.code == 0, installed.text
    assert {p.name: p.read_bytes() for p in shared.iterdir()} == before
    quiet(repo, "switch", "-q", "-c", "feature/x", "develop")
    assert repo.commit_file("a.txt").code == 0
    assert log.read_text() == "pre-commit\n"
    quiet(repo, "switch", "-q", "develop")
    assert_blocked(repo.commit_file("b.txt"), "protected-branch")


def test_a_tracked_hooks_path_stays_unchanged(repo: Repo) -> None:
    """The project's own hooks, tracked in `.githooks`: the shims go to this repository's own
    hooks directory, the tracked hooks still run, and nothing new shows up to commit."""
    log = repo.path / ".git" / "githooks.log"
    repo.write(".githooks/pre-commit", f'#!/bin/sh\necho "$(basename "$0")" >> \'{log}\'\n')
    (repo.path / ".githooks" / "pre-commit").chmod(0o755)
    quiet(repo, "add", ".githooks")
    quiet(repo, "commit", "-qm", "Project hooks")
    repo.git("config", "core.hooksPath", ".githooks")

    installed = repo.fw("install")
    assert installed.code == 0, installed.text
    assert repo.git("status", "--porcelain").out == ""
    quiet(repo, "switch", "-q", "-c", "feature/x", "main")
    assert repo.commit_file("a.txt").code == 0
    assert log.read_text() == "pre-commit\n"
    quiet(repo, "switch", "-q", "main")
    assert_blocked(repo.commit_file("b.txt"), "protected-branch")
    assert log.read_text() == "pre-commit\n"

    assert repo.fw("install", "--uninstall").code == 0
    assert repo.git("config", "core.hooksPath").out.strip() == ".githooks"
    assert repo.commit_file("b.txt").code == 0
    assert log.read_text() == "pre-commit\npre-commit\n"
