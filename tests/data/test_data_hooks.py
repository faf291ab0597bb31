"""The data rules end to end: real `git commit` and `git push` through flowwarden's hook shims."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from dvckit import dvc

from fwkit import HOOKS, Repo


@pytest.fixture
def feature(dvc_repo: Repo, tmp_path: Path) -> Repo:
    """`dvc_repo` with the shims installed, on feature/data, with a bare `origin`."""
    dvc_repo.git("init", "-q", "--bare", str(tmp_path / "origin.git"))
    dvc_repo.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    dvc_repo.git("push", "-q", "origin", "main", "develop")
    dvc_repo.git("switch", "-q", "-c", "feature/data", "develop")
    dvc_repo.install_shims()
    return dvc_repo


def test_commit_of_a_csv_is_rejected_with_the_dvc_fix(feature: Repo) -> None:
    result = feature.commit_file("data/train.csv", "a,b\n1,2\n")
    assert result.code == 1
    assert "dvc-untracked-data: data/train.csv is staged into git" in result.text
    assert ("fix: git rm --cached data/train.csv && dvc add data/train.csv && "
            "git add data/train.csv.dvc data/.gitignore") in result.text
    assert feature.git("log", "-1", "--format=%s").out.strip() == "Set up DVC"


def test_five_mib_binary_is_rejected(feature: Repo) -> None:
    feature.write("assets/blob.bin", os.urandom(5 * 1024 * 1024))
    feature.git("add", "assets/blob.bin")
    result = feature.git("commit", "-m", "Add a blob", check=False)
    assert result.code == 1
    assert "dvc-untracked-data: assets/blob.bin" in result.text and "5 MiB" in result.text


def test_dvc_add_then_commit_passes(feature: Repo) -> None:
    feature.write("data/train.csv", "a,b\n1,2\n")
    dvc(feature, "add", "-q", "data/train.csv")
    feature.git("add", "data/train.csv.dvc", "data/.gitignore")
    result = feature.git("commit", "-m", "Track the training data with DVC", check=False)
    assert result.code == 0, result.text


def test_commit_of_a_dvc_file_whose_object_was_collected_is_rejected(feature: Repo,
                                                                      tmp_path: Path) -> None:
    feature.write("data/train.csv", "a,b\n1,2\n")
    dvc(feature, "add", "-q", "data/train.csv")
    feature.git("add", "data/train.csv.dvc", "data/.gitignore")
    shutil.move(feature.path / "data/train.csv.dvc", tmp_path / "keep.dvc")
    dvc(feature, "gc", "-w", "-f", "-q")
    shutil.move(tmp_path / "keep.dvc", feature.path / "data/train.csv.dvc")
    result = feature.git("commit", "-m", "Track the training data", check=False)
    assert result.code == 1
    assert "dvc-missing-cache: data/train.csv" in result.text
    assert "fix: dvc commit -f data/train.csv.dvc" in result.text


def test_stale_lock_warns_but_commits(feature: Repo) -> None:
    feature.write("make.py", "import sys\nopen(sys.argv[1], 'w').write('1')\n")
    dvc(feature, "stage", "add", "-q", "-n", "build", "-d", "make.py", "-o", "out.txt",
        "python make.py out.txt")
    dvc(feature, "repro", "-q")
    feature.git("add", "-A")
    assert feature.git("commit", "-qm", "Add the build stage", check=False).code == 0
    feature.write("make.py", "import sys\nopen(sys.argv[1], 'w').write('2')\n")
    result = feature.git("commit", "-am", "Tweak the build", check=False)  # a temporary index
    assert result.code == 0, result.text
    assert "dvc-stale-pipeline" in result.text and "dvc repro build" in result.text


def test_push_before_dvc_push_is_rejected_and_after_it_accepted(feature: Repo) -> None:
    feature.write("data/train.csv", "a,b\n1,2\n")
    dvc(feature, "add", "-q", "data/train.csv")
    feature.git("add", "data/train.csv.dvc", "data/.gitignore")
    feature.git("commit", "-qm", "Track the training data with DVC")

    result = feature.git("push", "-u", "origin", "feature/data", check=False)
    assert result.code != 0
    assert "dvc-not-pushed: data/train.csv" in result.text
    assert "fix: dvc push -r storage" in result.text

    dvc(feature, "push", "-q")
    result = feature.git("push", "-u", "origin", "feature/data", check=False)
    assert result.code == 0, result.text


def test_repository_without_dvc_rejects_data_and_says_to_set_dvc_up(repo: Repo) -> None:
    repo.git("switch", "-q", "-c", "feature/data", "develop")
    repo.install_shims()
    result = repo.commit_file("models/model.pt", "weights")
    assert result.code == 1
    assert "dvc-untracked-data: models/model.pt" in result.text
    assert "fix: dvc init && git rm --cached models/model.pt" in result.text


def test_hook_command_exit_code(feature: Repo) -> None:
    feature.write("data/train.parquet", "PAR1")
    feature.git("add", "data/train.parquet")
    result = feature.fw("hook", "pre-commit")
    assert result.code == 1 and "dvc-untracked-data" in result.text
    skipped = feature.fw("hook", "pre-commit", env={"FLOWWARDEN_SKIP": "dvc-untracked-data"})
    assert skipped.code == 0, skipped.text


def test_server_pre_receive_rejects_data_pushed_with_no_verify(repo: Repo, tmp_path: Path) -> None:
    server = tmp_path / "server.git"
    repo.git("init", "-q", "--bare", str(server))
    repo.git("-C", str(server), "config", "core.hooksPath", str(HOOKS))
    repo.git("remote", "add", "origin", str(server))
    repo.git("push", "-q", "origin", "main", "develop")
    repo.git("switch", "-q", "-c", "feature/data", "develop")
    repo.write("data/train.csv", "a,b\n1,2\n")
    repo.git("add", "data/train.csv")
    repo.git("commit", "-qm", "Add raw data", "--no-verify")
    result = repo.git("push", "origin", "feature/data", check=False)
    assert result.code != 0
    assert "dvc-untracked-data" in result.text and "data/train.csv" in result.text
    assert "remote: error: dvc-untracked-data" in result.text and "rebase -i" in result.text
