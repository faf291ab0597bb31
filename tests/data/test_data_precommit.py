"""The data rules through the real pre-commit framework: flowwarden installed in pre-commit's own
virtualenv (which has no dvc library), the `dvc` command on PATH as users have it."""
from __future__ import annotations

from pathlib import Path

import pytest
from dvckit import dvc

from fwkit import Repo

pytestmark = pytest.mark.slow


@pytest.fixture
def pc_dvc(pc_repo: Repo, tmp_path: Path) -> Repo:
    """`pc_repo` on feature/data with DVC set up, a local DVC remote and a bare `origin`."""
    pc_repo.git("init", "-q", "--bare", str(tmp_path / "origin.git"))
    pc_repo.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    pc_repo.git("push", "-q", "--no-verify", "origin", "main", "develop")
    pc_repo.git("switch", "-q", "-c", "feature/data", "develop")
    dvc(pc_repo, "init", "-q")
    dvc(pc_repo, "remote", "add", "-d", "storage", str(tmp_path / "dvc-remote"))
    pc_repo.git("add", ".dvc")
    result = pc_repo.git("commit", "-m", "Set up DVC", check=False)
    assert result.code == 0, result.text
    return pc_repo


def test_csv_commit_is_rejected_with_the_dvc_fix(pc_dvc: Repo) -> None:
    before = pc_dvc.sha()
    result = pc_dvc.commit_file("data/train.csv", "a,b\n1,2\n")
    assert result.code == 1
    assert "dvc-untracked-data: data/train.csv is staged into git" in result.text
    assert "dvc add data/train.csv" in result.text
    assert pc_dvc.sha() == before


def test_dvc_add_commit_and_push_only_after_dvc_push(pc_dvc: Repo) -> None:
    pc_dvc.write("data/train.csv", "a,b\n1,2\n")
    dvc(pc_dvc, "add", "-q", "data/train.csv")
    pc_dvc.git("add", "data/train.csv.dvc", "data/.gitignore")
    result = pc_dvc.git("commit", "-m", "Track the training data with DVC", check=False)
    assert result.code == 0, result.text

    result = pc_dvc.git("push", "-u", "origin", "feature/data", check=False)
    assert result.code != 0
    assert "dvc-not-pushed: data/train.csv" in result.text
    assert "dvc push -r storage" in result.text

    dvc(pc_dvc, "push", "-q")
    result = pc_dvc.git("push", "-u", "origin", "feature/data", check=False)
    assert result.code == 0, result.text


def test_http_remote_is_checked_through_the_dvc_command(pc_dvc: Repo, http_remote: str) -> None:
    dvc(pc_dvc, "remote", "add", "-d", "-f", "web", http_remote)
    pc_dvc.git("add", ".dvc/config")
    pc_dvc.write("models/model.pt", "weights")
    dvc(pc_dvc, "add", "-q", "models/model.pt")
    pc_dvc.git("add", "models/model.pt.dvc", "models/.gitignore")
    result = pc_dvc.git("commit", "-m", "Track the model with DVC", check=False)
    assert result.code == 0, result.text

    result = pc_dvc.git("push", "-u", "origin", "feature/data", check=False)
    assert result.code != 0
    assert "dvc-not-pushed: models/model.pt (md5" in result.text
    assert f"is not in DVC remote web ({http_remote})" in result.text

    dvc(pc_dvc, "push", "-q", "-r", "storage")  # the directory the HTTP server serves
    result = pc_dvc.git("push", "-u", "origin", "feature/data", check=False)
    assert result.code == 0, result.text
