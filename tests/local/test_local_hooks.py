"""Local hooks judge what git is doing the way git does it: messages as git records them, an
amended merge as a merge, a manual `pre-commit run` as no commit, a remote named by URL as
the remote. Real git, the shims and the real pre-commit framework."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from corekit import add_bare_remote, assert_blocked, assert_passes, branch_with_commit, quiet  # noqa: E402

from flowwarden.adapters.git import GitRepo  # noqa: E402
from flowwarden.adapters.git.messages import trailer_block  # noqa: E402
from flowwarden.core.records import Push  # noqa: E402
from flowwarden.core.stages import Stage  # noqa: E402
from flowwarden.entry.hook import HookCall, build_events, clean_message  # noqa: E402
from fwkit import Repo, pre_commit  # noqa: E402

SPY = """#!/bin/sh
cp "$1" "$(git rev-parse --git-dir)/seen-msg"
printf '%s' "${GIT_EDITOR-unset}" > "$(git rev-parse --git-dir)/seen-editor"
"""
BODY = "#12 wider encoder\n\n; semicolon line  \n\n\n# hash line\n\nMLflow-Run-Id: abc123\n"


@pytest.mark.parametrize(("config", "args"), [
    ({}, ["-F", "msg.txt"]),
    ({}, ["-e", "-F", "msg.txt"]),
    ({"commit.cleanup": "strip"}, ["-F", "msg.txt"]),
    ({"commit.cleanup": "whitespace"}, ["-e", "-F", "msg.txt"]),
    ({"commit.cleanup": "verbatim"}, ["-F", "msg.txt"]),
    ({"commit.cleanup": "scissors"}, ["-e", "-v", "-F", "msg.txt"]),
    ({"core.commentChar": ";"}, ["-e", "-F", "msg.txt"]),
    ({"core.commentChar": "auto"}, ["-e", "-F", "msg.txt"]),
])
def test_message_as_git_records_it(repo: Repo, config: dict[str, str], args: list[str]) -> None:
    """The commit-msg hook's file, cleaned by flowwarden, is exactly what git then records."""
    hooks = repo.path / ".spy"
    hooks.mkdir()
    (hooks / "commit-msg").write_text(SPY)
    (hooks / "commit-msg").chmod(0o755)
    repo.git("config", "core.hooksPath", str(hooks))
    for key, value in config.items():
        repo.git("config", key, value)
    (repo.path / "msg.txt").write_text(BODY)
    repo.write("f.txt", "x\n")
    repo.git("add", "f.txt")
    repo.git("commit", *args, env={"GIT_EDITOR": "true"})
    git_dir = repo.path / ".git"
    env = {"GIT_EDITOR": (git_dir / "seen-editor").read_text()}
    seen = (git_dir / "seen-msg").read_text()
    recorded = repo.git("log", "-1", "--format=%B").out
    cleaned = clean_message(seen, GitRepo.discover(repo.path, repo.env), env)
    assert cleaned.rstrip("\n") == recorded.rstrip("\n")


def test_hash_subject_with_trailer_is_kept_and_cited(repo: Repo) -> None:
    """`git commit -m "#12 wider encoder" --trailer ...`: git keeps the subject (whitespace
    cleanup without an editor) and the trailer; so does flowwarden, at every stage."""
    hooks = repo.path / ".spy"
    hooks.mkdir()
    (hooks / "commit-msg").write_text(SPY)
    (hooks / "commit-msg").chmod(0o755)
    repo.git("config", "core.hooksPath", str(hooks))
    repo.write("f.txt", "x\n")
    repo.git("add", "f.txt")
    repo.git("commit", "-m", "#12 wider encoder", "--trailer", "MLflow-Run-Id: abc123")
    git_dir = repo.path / ".git"
    seen = clean_message((git_dir / "seen-msg").read_text(),
                         GitRepo.discover(repo.path, repo.env),
                         {"GIT_EDITOR": (git_dir / "seen-editor").read_text()})
    assert seen.startswith("#12 wider encoder\n")
    assert trailer_block(seen) == [("MLflow-Run-Id", "abc123")]
    recorded = repo.git("log", "-1", "--format=%B").out
    assert trailer_block(recorded) == [("MLflow-Run-Id", "abc123")]


@pytest.mark.parametrize(("config", "option", "refused"), [
    ([], ["--cleanup=strip"], True),  # the `#12` subject goes: the trailer is all that is left
    ([], ["--cleanup", "verbatim"], False),
    ([], ["--clean=scissors"], False),  # an abbreviation git takes; no editor: whitespace
    (["-c", "commit.cleanup=strip"], [], True),
    (["-c", "commit.cleanup=strip"], ["--cleanup=whitespace"], False),
])
def test_cleanup_of_the_command_line_decides_like_git(shim_repo: Repo, config: list[str],
                                                      option: list[str], refused: bool) -> None:
    """`git commit --cleanup=<mode> -m "#12 ..." --trailer ...`: flowwarden refuses the commit
    exactly when the message git would record cites no run."""
    quiet(shim_repo, "switch", "-qc", "experiment/wide", "develop")
    shim_repo.write("train.py", "fit()\n")
    shim_repo.git("add", "train.py")
    args = [*config, "commit", *option, "-m", "#12 wider encoder",
            "--trailer", f"MLflow-Run-Id: {7:032x}"]
    result = shim_repo.git(*args, check=False)
    assert (result.code != 0) is refused, result.text
    assert ("mlflow-run-id" in result.err) is refused, result.err
    if refused:
        shim_repo.git(*args, "--no-verify")
    recorded = shim_repo.git("log", "-1", "--format=%(trailers:key=MLflow-Run-Id)").out.strip()
    assert (recorded == "") is refused


def test_amending_a_merge_is_still_a_merge(hooked_repo: Repo) -> None:
    branch_with_commit(hooked_repo, "feature/login", "develop")
    quiet(hooked_repo, "switch", "-q", "develop")
    assert_passes(hooked_repo.git("merge", "--no-ff", "--no-edit", "feature/login",
                                  check=False))
    merged = hooked_repo.sha()
    result = hooked_repo.git("commit", "--amend", "--no-edit", "--trailer",
                             "Reviewed-by: Bob <bob@example.com>", check=False)
    assert_passes(result)
    assert hooked_repo.sha() != merged
    assert len(hooked_repo.git("log", "-1", "--format=%P").out.split()) == 2


def test_amending_a_direct_commit_on_develop_is_still_refused(shim_repo: Repo) -> None:
    result = shim_repo.git("commit", "--amend", "--no-edit", "--allow-empty", check=False)
    quiet(shim_repo, "switch", "-q", "develop")
    result = shim_repo.git("commit", "--amend", "--no-edit", "--allow-empty", check=False)
    assert_blocked(result, "protected-branch", "develop")


@pytest.mark.slow
def test_manual_pre_commit_run_on_main_refuses_nothing(pc_repo: Repo) -> None:
    """`pre-commit run --all-files` on main (pre-commit.ci, the GitHub Action) commits nothing."""
    quiet(pc_repo, "switch", "-q", "main")
    result = pre_commit(pc_repo, "run", "--all-files")
    assert result.code == 0, result.text
    assert "protected-branch" not in result.text
    pc_repo.write("model.py", "print('direct')\n")
    pc_repo.git("add", "model.py")
    assert_blocked(pc_repo.git("commit", "-m", "direct", check=False), "protected-branch")


def test_push_by_url_is_the_remote_by_name(repo: Repo, tmp_path: Path) -> None:
    add_bare_remote(repo, tmp_path / "origin.git")
    url = (tmp_path / "origin.git").resolve().as_uri()
    tip = branch_with_commit(repo, "feature/x", "develop")
    line = f"refs/heads/feature/x {tip} refs/heads/feature/x {'0' * 40}\n".encode()
    events = build_events(HookCall(Stage.PRE_PUSH, (url, url), line, {}),
                          GitRepo.discover(repo.path, repo.env))
    assert isinstance(events[0], Push) and events[0].remote == "origin"
