"""Git calls started early: HEAD read from files, and `proc.run` taking only exact matches."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from flowwarden.adapters.early import DISCOVER, head_from_files, staged_diff, start_commit_calls
from flowwarden.adapters.git import GitRepo
from flowwarden.core import proc


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in [k for k in os.environ if k.startswith("GIT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    git(tmp_path, "init", "-q", "-b", "main", "r")
    path = tmp_path / "r"
    (path / "a.txt").write_text("a\n")
    git(path, "add", "a.txt")
    git(path, "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-qm", "A")
    return path


def test_head_from_loose_packed_and_detached_refs(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    assert head_from_files(str(repo / ".git")) == sha
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert head_from_files(str(repo / ".git")) == sha
    git(repo, "switch", "-q", "--detach")
    assert head_from_files(str(repo / ".git")) == sha
    git(repo, "switch", "-q", "--orphan", "unborn")
    assert head_from_files(str(repo / ".git")) is None


def test_run_takes_the_early_result_of_the_same_command_only(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")
    start_commit_calls()
    assert len(proc._EARLY) == 2
    found = GitRepo.discover(".")
    assert found.root == repo.resolve() and not proc._EARLY.get((DISCOVER, str(repo)))
    assert [c.path for c in found.staged_changes(found.head())] == ["b.txt"]
    assert not proc._EARLY
    proc.start_early(staged_diff(found.head() or ""), cwd=repo / ".git")  # another directory
    assert proc.run(staged_diff(found.head() or ""), cwd=repo)[1].endswith(b"b.txt\0")
    assert len(proc._EARLY) == 1  # not taken: it ran where the caller did not ask
    proc._reap()
    proc._EARLY.clear()


def test_no_early_calls_outside_a_plain_work_tree(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    start_commit_calls()
    assert not proc._EARLY
