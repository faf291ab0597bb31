"""Hooks only read: refs, index, config, git directory and work tree are byte-identical
before and after every stage (flowwarden's own cache under .git/flowwarden/ aside)."""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from corekit import (
    NO_HOOKS,
    TRACEBACK,
    add_bare_remote,
    branch_with_commit,
    commit_quiet,
    quiet,
    tree_digest,
)

from fwkit import Repo, Result

ZERO = "0" * 40


@dataclass(frozen=True)
class State:
    refs: str
    head: str
    index: str
    files: dict[str, str] = field(repr=False)


def snapshot(repo: Repo, git_dir: Path, index_env: dict[str, str] | None = None) -> State:
    rel = git_dir.relative_to(repo.path).as_posix()
    skip = "flowwarden/" if rel == "." else f"{rel}/flowwarden/"
    return State(
        refs=repo.git("for-each-ref", "--format=%(refname) %(objectname) %(symref)").out,
        head=(git_dir / "HEAD").read_text(),
        index=repo.git("ls-files", "-s", check=False, env=index_env).out,
        files=tree_digest(repo.path, skip=(skip,)),
    )


@dataclass(frozen=True)
class Case:
    """Bring `repo` into a state, then run one hook: (argv, stdin, env) and the exit expected."""

    prepare: Callable[[Repo, Path], tuple[list[str], str | None, dict[str, str]]]
    expect: int


def on_develop_staged(repo: Repo, _tmp: Path) -> tuple[list[str], str | None, dict[str, str]]:
    quiet(repo, "switch", "-q", "develop")
    repo.write("model.py", "x = 1\n")
    repo.git("add", "model.py")
    return ["hook", "pre-commit"], None, {}


def on_feature_staged(repo: Repo, _tmp: Path) -> tuple[list[str], str | None, dict[str, str]]:
    quiet(repo, "switch", "-q", "-c", "feature/x", "develop")
    repo.write("model.py", "x = 1\n")
    repo.git("add", "model.py")
    repo.write("unstaged.txt", "left alone\n")
    return ["hook", "pre-commit"], None, {}


def temporary_index(repo: Repo, _tmp: Path) -> tuple[list[str], str | None, dict[str, str]]:
    """Like `git commit -a`: a second index file named by GIT_INDEX_FILE."""
    quiet(repo, "switch", "-q", "develop")
    index = repo.path / ".git" / "next-index"
    shutil.copy(repo.path / ".git" / "index", index)
    repo.write("README.md", "# edited\n")
    env = {"GIT_INDEX_FILE": str(index)}
    repo.git("add", "README.md", env=env)
    return ["hook", "pre-commit"], None, env


def conflicted_merge(repo: Repo, _tmp: Path) -> tuple[list[str], str | None, dict[str, str]]:
    branch_with_commit(repo, "feature/x", "develop", "README.md")
    quiet(repo, "switch", "-q", "main")
    commit_quiet(repo, "README.md", "# main\n")
    conflicted = repo.git(*NO_HOOKS, "merge", "feature/x", check=False)
    assert "CONFLICT" in conflicted.text
    return ["hook", "pre-commit"], None, {}


def pre_merge_commit(repo: Repo, _tmp: Path) -> tuple[list[str], str | None, dict[str, str]]:
    tip = branch_with_commit(repo, "feature/x", "develop")
    quiet(repo, "switch", "-q", "main")
    return (["hook", "pre-merge-commit"], None,
            {f"GITHEAD_{tip}": "feature/x", "GIT_REFLOG_ACTION": "merge feature/x"})


def commit_msg(repo: Repo, tmp: Path) -> tuple[list[str], str | None, dict[str, str]]:
    quiet(repo, "switch", "-q", "-c", "feature/x", "develop")
    message = tmp / "COMMIT_EDITMSG"
    message.write_text("Add the model\n")
    return ["hook", "commit-msg", str(message)], None, {}


def prepare_msg(repo: Repo, tmp: Path) -> tuple[list[str], str | None, dict[str, str]]:
    quiet(repo, "switch", "-q", "-c", "feature/x", "develop")
    message = tmp / "COMMIT_EDITMSG"
    message.write_text("Add the model\n")
    return ["hook", "prepare-commit-msg", str(message), "message"], None, {}


def pre_push(repo: Repo, tmp: Path) -> tuple[list[str], str | None, dict[str, str]]:
    add_bare_remote(repo, tmp / "origin.git")
    old = repo.sha("develop")
    quiet(repo, "switch", "-q", "develop")
    new = commit_quiet(repo, "hack.py")
    stdin = (f"refs/heads/develop {new} refs/heads/develop {old}\n"
             f"(delete) {ZERO} refs/heads/main {repo.sha('main')}\n")
    return ["hook", "pre-push", "origin", (tmp / "origin.git").as_uri()], stdin, {}


def post_checkout(repo: Repo, _tmp: Path) -> tuple[list[str], str | None, dict[str, str]]:
    quiet(repo, "switch", "-q", "-c", "Bad_Name", "develop")
    sha = repo.sha()
    return ["hook", "post-checkout", sha, sha, "1"], None, {}


def check_merge(repo: Repo, _tmp: Path) -> tuple[list[str], str | None, dict[str, str]]:
    branch_with_commit(repo, "feature/x", "develop")
    return ["check", "--merge", "feature/x", "--into", "main"], None, {}


CASES = {
    "pre-commit-develop": Case(on_develop_staged, 1),
    "pre-commit-feature": Case(on_feature_staged, 0),
    "pre-commit-temporary-index": Case(temporary_index, 1),
    "pre-commit-conflicted-merge": Case(conflicted_merge, 1),
    "pre-merge-commit": Case(pre_merge_commit, 1),
    "commit-msg": Case(commit_msg, 0),
    "prepare-commit-msg": Case(prepare_msg, 0),
    "pre-push": Case(pre_push, 1),
    "post-checkout": Case(post_checkout, 0),
    "check-merge": Case(check_merge, 1),
}


def stat_dirty(repo: Repo) -> None:
    """Bump tracked files' mtimes, content unchanged: a hook that refreshes the index (a
    `git status`, `update-index --refresh`) then rewrites the index file, which shows."""
    later = time.time() + 5
    for line in repo.git("ls-files", "-z").out.split("\0"):
        if line and (repo.path / line).is_file():
            os.utime(repo.path / line, (later, later))


def run_untouched(repo: Repo, git_dir: Path, argv: list[str], stdin: str | None,
                  env: dict[str, str]) -> Result:
    if git_dir != repo.path:
        stat_dirty(repo)
    before = snapshot(repo, git_dir, env or None)
    result = repo.fw(*argv, stdin=stdin, env=env)
    after = snapshot(repo, git_dir, env or None)
    assert after.refs == before.refs and after.head == before.head
    assert after.index == before.index
    changed = {p for p in before.files.keys() | after.files.keys()
               if before.files.get(p) != after.files.get(p)}
    assert not changed, f"{' '.join(argv)} changed {sorted(changed)}"
    return result


@pytest.mark.parametrize("case", sorted(CASES))
def test_hook_leaves_the_repository_untouched(repo: Repo, tmp_path: Path, case: str) -> None:
    argv, stdin, env = CASES[case].prepare(repo, tmp_path)
    result = run_untouched(repo, repo.path / ".git", argv, stdin, env)
    assert result.code == CASES[case].expect, result.text
    assert TRACEBACK not in result.text


def test_pre_receive_leaves_the_server_untouched(repo: Repo, tmp_path: Path) -> None:
    server = add_bare_remote(repo, tmp_path / "server.git")
    quiet(repo, "switch", "-q", "develop")
    new = commit_quiet(repo, "hack.py")
    quiet(repo, "push", "-q", "--no-verify", "origin", "develop:refs/heads/incoming")
    stdin = f"{server.sha('develop')} {new} refs/heads/develop\n"
    result = run_untouched(server, server.path, ["hook", "pre-receive"], stdin, {})
    assert result.code == 1, result.text
    assert "protected-history" in result.text


def test_a_refused_commit_through_the_shim_leaves_index_and_tree(shim_repo: Repo) -> None:
    """git itself writes COMMIT_EDITMSG; what the user staged and edited must survive."""
    quiet(shim_repo, "switch", "-q", "develop")
    shim_repo.write("model.py", "x = 1\n")
    shim_repo.git("add", "model.py")
    shim_repo.write("model.py", "x = 2\n")
    index = shim_repo.git("ls-files", "-s").out
    refs = shim_repo.git("for-each-ref").out
    assert shim_repo.git("commit", "-m", "Direct", check=False).code != 0
    assert shim_repo.git("ls-files", "-s").out == index
    assert shim_repo.git("for-each-ref").out == refs
    assert (shim_repo.path / "model.py").read_text() == "x = 2\n"
