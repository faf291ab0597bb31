"""Push-time data rules: dvc-not-pushed against real DVC remotes, dvc-untracked-data per commit."""
from __future__ import annotations

import sys

import pytest
from dvckit import check_push, context, dvc, ids, only

from flowwarden.core.records import Push, RefUpdate, Severity
from flowwarden.core.stages import Stage
from flowwarden.rules import RULES as ALL_RULES
from fwkit import Repo

RULES = tuple(r for r in ALL_RULES if r.id.startswith("dvc-"))

RULE = "dvc-not-pushed"


def add_data(repo: Repo, path: str, content: str) -> None:
    repo.write(path, content)
    dvc(repo, "add", "-q", path)
    parent = path.rsplit("/", 1)[0]
    repo.git("add", f"{path}.dvc", f"{parent}/.gitignore")
    repo.git("commit", "-qm", f"Track {path} with DVC")


def test_push_before_dvc_push_is_refused_and_after_it_passes(pushed: Repo) -> None:
    add_data(pushed, "data/train.csv", "a,b\n1,2\n")
    v = only(check_push(pushed), RULE)
    assert v.severity is Severity.ERROR
    assert v.subject == "data/train.csv"
    assert "is not in DVC remote storage" in v.message and "dvc push before git push" in v.message
    assert v.fix == "dvc push -r storage"

    dvc(pushed, "push", "-q")
    assert check_push(pushed) == []


def test_directory_output_partly_in_the_remote_is_refused(pushed: Repo) -> None:
    for i in range(50):
        pushed.write(f"data/images/{i:03d}.txt", f"image {i}\n")
    dvc(pushed, "add", "-q", "data/images")
    pushed.git("add", "data/images.dvc", "data/.gitignore")
    pushed.git("commit", "-qm", "Track images")
    dvc(pushed, "push", "-q")
    assert check_push(pushed) == []

    remote = pushed.path.parent / "dvc-remote" / "files" / "md5"
    lost = sorted(p for p in remote.rglob("*") if p.is_file() and p.suffix != ".dir")[:3]
    for path in lost:
        path.unlink()
    v = only(check_push(pushed), RULE)
    assert "3 of 50 files named in data/images.dvc are not in DVC remote storage" in v.message


def test_only_dvc_files_changed_by_the_push_are_checked(pushed: Repo) -> None:
    add_data(pushed, "data/old.csv", "old\n")
    pushed.git("push", "-q", "origin", "main")  # its data never reached the DVC remote
    pushed.commit_file("src/app.py", "print(1)\n")
    assert check_push(pushed) == []


def test_pipeline_outputs_at_the_pushed_tip_are_checked(pushed: Repo) -> None:
    pushed.write("make.py", "import sys\nopen(sys.argv[1], 'w').write('out\\n')\n")
    dvc(pushed, "stage", "add", "-q", "-n", "build", "-d", "make.py", "-o", "out.txt",
        "python make.py out.txt")
    dvc(pushed, "repro", "-q")
    pushed.git("add", "-A")
    pushed.git("commit", "-qm", "Add the build stage")
    v = only(check_push(pushed), RULE)
    assert v.subject == "out.txt" and "named in dvc.lock" in v.message
    dvc(pushed, "push", "-q")
    assert check_push(pushed) == []


def test_push_without_any_dvc_remote_is_refused(pushed: Repo) -> None:
    dvc(pushed, "remote", "remove", "storage")
    add_data(pushed, "data/train.csv", "a\n")
    v = only(check_push(pushed), RULE)
    assert "no DVC remote is configured" in v.message
    assert v.fix is not None and "dvc remote add -d storage followed by its URL" in v.fix


def test_http_remote_is_asked_through_dvc(pushed: Repo, http_remote: str) -> None:
    dvc(pushed, "remote", "add", "web", http_remote)
    add_data(pushed, "data/train.csv", "a,b\n1,2\n")
    policy = {"data": {"remote": "web"}}
    v = only(check_push(pushed, document=policy), RULE)
    assert f"is not in DVC remote web ({http_remote})" in v.message
    assert v.fix == "dvc push -r web"

    dvc(pushed, "push", "-q", "-r", "storage")  # the directory the HTTP server serves
    assert check_push(pushed, document=policy) == []


def test_remote_whose_plugin_is_missing_says_what_to_install(pushed: Repo) -> None:
    dvc(pushed, "remote", "add", "-d", "gs", "gs://bucket/dvc")  # dvc-gs is never installed
    add_data(pushed, "data/train.csv", "a\n")
    v = only(check_push(pushed), RULE)
    assert "needs the Python package dvc-gs, which is not installed" in v.message
    assert v.fix == "pip install dvc-gs"
    assert any("FLOWWARDEN_SKIP=dvc-not-pushed git push" in d for d in v.details)


def test_unreachable_remote_blocks_or_warns_per_policy(pushed: Repo) -> None:
    dvc(pushed, "remote", "add", "-d", "down", "http://127.0.0.1:9/dvc")
    add_data(pushed, "data/train.csv", "a\n")
    v = only(check_push(pushed), RULE)
    assert v.severity is Severity.ERROR and "could not be checked" in v.message
    assert any("FLOWWARDEN_SKIP=dvc-not-pushed" in d for d in v.details)

    v = only(check_push(pushed, document={"data": {"unreachable_remote": "warn"}}), RULE)
    assert v.severity is Severity.WARNING


def test_data_committed_to_git_in_a_pushed_commit_is_refused(pushed: Repo) -> None:
    pushed.commit_file("data/raw.csv", "a,b\n")
    first = pushed.sha()[:7]
    pushed.git("rm", "-q", "data/raw.csv")
    pushed.git("commit", "-qm", "Remove the raw data again")
    v = only(check_push(pushed, stage=Stage.CI), "dvc-untracked-data")
    assert v.subject == f"{first}:data/raw.csv"
    assert f"committed to git in {first}" in v.message
    assert v.fix is not None and f"rebase -i {first}~1 " in v.fix


def test_merge_commits_are_not_checked_twice(pushed: Repo) -> None:
    pushed.git("switch", "-q", "-c", "feature/x")
    pushed.commit_file("data/raw.csv", "a,b\n")
    pushed.git("switch", "-q", "main")
    pushed.commit_file("src/app.py", "print(1)\n")
    pushed.git("merge", "-q", "--no-ff", "-m", "Merge feature/x", "feature/x")
    assert ids(check_push(pushed)) == ["dvc-untracked-data"]


def test_relative_remote_url_is_resolved_from_the_dvc_directory(pushed: Repo) -> None:
    dvc(pushed, "remote", "add", "-f", "-d", "storage", "../dvc-remote")
    assert "../../dvc-remote" in (pushed.path / ".dvc" / "config").read_text()
    add_data(pushed, "data/train.csv", "a,b\n1,2\n")
    dvc(pushed, "push", "-q")
    assert (pushed.path.parent / "dvc-remote" / "files").is_dir()
    assert check_push(pushed) == []


@pytest.fixture
def without_dvc_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """This Python cannot import dvc (as in pre-commit's hook virtualenv); `dvc` stays on PATH."""
    monkeypatch.setitem(sys.modules, "dvc.repo", None)


@pytest.mark.usefixtures("without_dvc_library")
def test_without_the_dvc_library_the_dvc_command_is_asked(pushed: Repo, http_remote: str) -> None:
    dvc(pushed, "remote", "add", "web", http_remote)
    add_data(pushed, "data/train.csv", "a,b\n1,2\n")
    policy = {"data": {"remote": "web"}}
    v = only(check_push(pushed, document=policy), RULE)
    assert f"is not in DVC remote web ({http_remote})" in v.message

    dvc(pushed, "push", "-q", "-r", "storage")  # the directory the HTTP server serves
    assert check_push(pushed, document=policy) == []


@pytest.mark.usefixtures("without_dvc_library")
def test_the_dvc_command_cannot_check_a_tip_other_than_the_working_tree(
        pushed: Repo, http_remote: str) -> None:
    dvc(pushed, "remote", "add", "-d", "web", http_remote)
    add_data(pushed, "data/train.csv", "a,b\n1,2\n")
    pushed.git("switch", "-q", "-c", "elsewhere", "HEAD~1")
    v = only(check_push(pushed), RULE)
    assert "could not be checked" in v.message and "differ from the pushed version" in v.message


def test_update_to_an_unknown_commit_is_not_walked(pushed: Repo) -> None:
    ctx = context(pushed, Stage.PRE_PUSH)
    event = Push((RefUpdate("refs/heads/main", pushed.sha(), "1" * 40),), remote="origin")
    assert [v for rule in RULES if rule.applies(event, ctx.stage)
            for v in rule.check(event, ctx)] == []


def test_in_ci_an_unreachable_remote_says_what_works_there(pushed: Repo) -> None:
    dvc(pushed, "remote", "add", "-d", "down", "http://127.0.0.1:9/dvc")
    pushed.git("commit", "-qm", "DVC remote", ".dvc/config")
    pushed.git("push", "-q", "origin", "main")
    add_data(pushed, "data/train.csv", "a\n")
    v = only(check_push(pushed, stage=Stage.CI), RULE)
    assert "could not be checked" in v.message
    assert not any("FLOWWARDEN_SKIP" in d for d in v.details)  # read by local hooks only
    assert any("data.unreachable_remote: warn" in d for d in v.details)


def test_in_ci_dvc_is_asked_with_the_target_config(pushed: Repo, http_remote: str) -> None:
    dvc(pushed, "remote", "add", "-d", "web", http_remote)
    pushed.git("commit", "-qm", "DVC remote over HTTP", ".dvc/config")
    pushed.git("push", "-q", "origin", "main")
    # the pushed commits point the remote at a server of their choosing: not followed
    dvc(pushed, "remote", "modify", "web", "url", "http://127.0.0.1:9/elsewhere")
    add_data(pushed, "data/train.csv", "a,b\n1,2\n")
    pushed.git("commit", "-qm", "Move the remote", ".dvc/config")
    v = only(check_push(pushed, stage=Stage.CI), RULE)
    assert f"is not in DVC remote web ({http_remote})" in v.message

    dvc(pushed, "push", "-q", "-r", "storage")  # the directory the HTTP server serves
    assert check_push(pushed, stage=Stage.CI) == []
