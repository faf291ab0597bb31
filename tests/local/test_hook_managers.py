"""flowwarden beside real hook managers, lefthook and husky: installed after the manager, both
hooks run under their own names with git's arguments and stdin, a refusal stops the manager's
side effects, the manager's own failure stays a failure; and the way `flowwarden install`
offers to keep the checks once the manager writes its hooks again works as printed."""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from corekit import add_bare_remote, assert_blocked, branch_with_commit, quiet  # noqa: E402

from fwkit import Repo, run  # noqa: E402

#: lefthook's commands leave a trace of what they saw: the stage, git's arguments, stdin.
LEFTHOOK_YML = """\
pre-commit:
  commands:
    trace:
      run: echo "pre-commit {staged_files}" >> .git/lefthook-seen
commit-msg:
  commands:
    trace:
      run: echo "commit-msg $(head -n 1 {1})" >> .git/lefthook-seen
pre-push:
  commands:
    trace:
      run: echo "pre-push {1} $(cat)" >> .git/lefthook-seen
      use_stdin: true
"""


def lefthook(repo: Repo, *args: str) -> None:
    if shutil.which("lefthook", path=repo.env["PATH"]) is None:
        pytest.fail("lefthook is not installed: it is in the `test` extra (pip install lefthook)")
    result = run(["lefthook", *args], repo.path, repo.env)
    assert result.code == 0, result.text


def husky(repo: Repo) -> None:
    if shutil.which("husky", path=repo.env["PATH"]) is None:
        pytest.skip("husky is not installed (.ci/run installs it: npm install -g husky@9)")
    result = run(["husky"], repo.path, repo.env)
    assert result.code == 0, result.text


def seen(repo: Repo, name: str) -> list[str]:
    path = repo.path / ".git" / name
    return path.read_text().splitlines() if path.exists() else []


def commit_and_push(repo: Repo, tmp_path: Path) -> str:
    """A commit on a feature branch, pushed: every manager hook has something to see."""
    add_bare_remote(repo, tmp_path / "origin.git")
    branch_with_commit(repo, "feature/x", "develop")
    repo.write("a.txt", "a\n")
    repo.git("add", "a.txt")
    committed = repo.git("commit", "-m", "Add a", check=False)
    assert committed.code == 0, committed.text
    pushed = repo.git("push", "origin", "feature/x", check=False)
    assert pushed.code == 0, pushed.text
    return repo.sha()


def test_lefthook_then_flowwarden(repo: Repo, tmp_path: Path) -> None:
    repo.write("lefthook.yml", LEFTHOOK_YML)
    lefthook(repo, "install")
    installed = repo.fw("install")
    assert installed.code == 0 and "pre-commit.pre-flowwarden" in installed.out

    tip = commit_and_push(repo, tmp_path)
    assert seen(repo, "lefthook-seen") == [
        "pre-commit a.txt", "commit-msg Add a",
        f"pre-push origin refs/heads/feature/x {tip} refs/heads/feature/x {'0' * 40}"]

    quiet(repo, "switch", "-q", "develop")
    repo.write("b.txt", "b\n")
    repo.git("add", "b.txt")
    assert_blocked(repo.git("commit", "-m", "direct", check=False), "protected-branch")
    assert len(seen(repo, "lefthook-seen")) == 3, "lefthook ran for a refused commit"

    repo.write("lefthook.yml", LEFTHOOK_YML.replace(
        'echo "pre-commit {staged_files}" >> .git/lefthook-seen', "exit 7"))
    quiet(repo, "switch", "-q", "feature/x")
    failed = repo.git("commit", "-m", "b", check=False)
    assert failed.code != 0 and "trace" in failed.text, "lefthook's failure was lost"


def test_lefthook_runs_flowwarden_as_install_prints_it(repo: Repo, tmp_path: Path) -> None:
    """lefthook writes its hooks again when its config changes, which drops the shims;
    flowwarden as a lefthook command, as `flowwarden install` prints it, survives that."""
    repo.write("lefthook.yml", LEFTHOOK_YML)
    lefthook(repo, "install")
    printed = repo.fw("install").out
    assert "lefthook writes its hooks again" in printed
    snippet = printed.split("merge this into lefthook.yml:\n", 1)[1]
    repo.write("lefthook-local.yml", snippet)  # lefthook merges it into lefthook.yml
    repo.write("lefthook.yml", LEFTHOOK_YML.split("pre-push:")[0])  # stdin is flowwarden's
    lefthook(repo, "install")
    assert "flowwarden install" not in (repo.path / ".git/hooks/pre-commit").read_text()

    commit_and_push(repo, tmp_path)
    quiet(repo, "switch", "-q", "develop")
    repo.write("b.txt", "b\n")
    repo.git("add", "b.txt")
    assert_blocked(repo.git("commit", "-m", "direct", check=False), "protected-branch")
    repo.git("commit", "--no-verify", "-m", "direct")
    assert_blocked(repo.git("push", "origin", "develop", check=False), "protected-history")


HUSKY_SCRIPTS = {
    "pre-commit": 'echo "pre-commit $(basename "$0") $*" >> .git/husky-seen\n',
    "commit-msg": 'echo "commit-msg $(head -n 1 "$1")" >> .git/husky-seen\n',
    "pre-push": 'echo "pre-push $1 $(cat)" >> .git/husky-seen\n',
}


def test_husky_then_flowwarden(repo: Repo, tmp_path: Path) -> None:
    husky(repo)
    for stage, script in HUSKY_SCRIPTS.items():
        repo.write(f".husky/{stage}", script)
    installed = repo.fw("install")
    assert installed.code == 0 and "husky writes its hooks in .husky/_ again" in installed.out

    tip = commit_and_push(repo, tmp_path)
    assert seen(repo, "husky-seen") == [
        "pre-commit pre-commit ", "commit-msg Add a",
        f"pre-push origin refs/heads/feature/x {tip} refs/heads/feature/x {'0' * 40}"]

    quiet(repo, "switch", "-q", "develop")
    repo.write("b.txt", "b\n")
    repo.git("add", "b.txt")
    assert_blocked(repo.git("commit", "-m", "direct", check=False), "protected-branch")
    assert len(seen(repo, "husky-seen")) == 3, "husky ran for a refused commit"

    repo.write(".husky/pre-commit", "exit 3\n")
    quiet(repo, "switch", "-q", "feature/x")
    failed = repo.git("commit", "-m", "b", check=False)
    assert failed.code != 0 and "husky - pre-commit script failed (code 3)" in failed.text


def test_husky_runs_flowwarden_as_install_prints_it(repo: Repo, tmp_path: Path) -> None:
    """`husky` (npm's prepare script) writes .husky/_ again, which drops the shims; the
    lines `flowwarden install` prints for husky's own scripts survive it."""
    husky(repo)
    for stage, script in HUSKY_SCRIPTS.items():  # a pre-push that leaves stdin to flowwarden
        repo.write(f".husky/{stage}", script.replace(" $(cat)", ""))
    printed = repo.fw("install").out
    command = re.search(r"husky's scripts: (.*)$", printed, re.MULTILINE)
    assert command is not None, printed
    assert run(["sh", "-c", command.group(1)], repo.path, repo.env).code == 0
    quiet(repo, "switch", "-q", "-c", "experiment/wide", "develop")
    once = repo.git("commit", "--allow-empty", "-m", "Wider", "--trailer",
                    f"MLflow-Run-Id: {7:032x}", check=False)  # the shim and the script
    assert once.code == 0, once.text
    assert once.text.count("warning: mlflow-run-unknown") == 1, "checked twice:\n" + once.text
    quiet(repo, "switch", "-q", "main")
    husky(repo)
    assert "flowwarden install" not in (repo.path / ".husky/_/pre-commit").read_text()

    commit_and_push(repo, tmp_path)
    assert seen(repo, "husky-seen")[-3:] == ["pre-commit pre-commit ", "commit-msg Add a",
                                             "pre-push origin"]
    quiet(repo, "switch", "-q", "develop")
    repo.write("b.txt", "b\n")
    repo.git("add", "b.txt")
    assert_blocked(repo.git("commit", "-m", "direct", check=False), "protected-branch")
    repo.git("commit", "--no-verify", "-m", "direct")
    assert_blocked(repo.git("push", "origin", "develop", check=False), "protected-history")


def test_flowwarden_then_lefthook_then_flowwarden_again(repo: Repo, tmp_path: Path) -> None:
    """With lefthook.yml in the repository, install says lefthook will set its hooks aside;
    once `lefthook install` has, installing again chains lefthook's and both run."""
    repo.write("lefthook.yml", LEFTHOOK_YML)
    assert "lefthook writes its hooks again" in repo.fw("install").out
    lefthook(repo, "install")
    assert "flowwarden install" in (repo.path / ".git/hooks/pre-commit.old").read_text()
    assert repo.fw("install").code == 0

    tip = commit_and_push(repo, tmp_path)
    assert seen(repo, "lefthook-seen") == [
        "pre-commit a.txt", "commit-msg Add a",
        f"pre-push origin refs/heads/feature/x {tip} refs/heads/feature/x {'0' * 40}"]
    quiet(repo, "switch", "-q", "develop")
    repo.write("b.txt", "b\n")
    repo.git("add", "b.txt")
    assert_blocked(repo.git("commit", "-m", "direct", check=False), "protected-branch")


def test_flowwarden_then_husky_then_flowwarden_again(repo: Repo, tmp_path: Path) -> None:
    """With husky in package.json, install says husky will take the hooks over; once `husky`
    has pointed core.hooksPath at .husky/_, installing again chains husky's and both run."""
    repo.write("package.json", '{"scripts": {"prepare": "husky"}}\n')
    assert "husky writes its hooks in .husky/_ again" in repo.fw("install").out
    husky(repo)
    for stage, script in HUSKY_SCRIPTS.items():
        repo.write(f".husky/{stage}", script)
    assert repo.fw("install").code == 0
    assert "flowwarden install" in (repo.path / ".husky/_/pre-commit").read_text()

    tip = commit_and_push(repo, tmp_path)
    assert seen(repo, "husky-seen") == [
        "pre-commit pre-commit ", "commit-msg Add a",
        f"pre-push origin refs/heads/feature/x {tip} refs/heads/feature/x {'0' * 40}"]
    quiet(repo, "switch", "-q", "develop")
    repo.write("b.txt", "b\n")
    repo.git("add", "b.txt")
    assert_blocked(repo.git("commit", "-m", "direct", check=False), "protected-branch")
