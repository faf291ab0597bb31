"""An MLflow tracking store (`mlflow.db`, `mlruns/`, `mlartifacts/`) committed to git is
refused whatever its size, and the printed fix, pasted, untracks and ignores it. Real git
hooks (the shims), stores written by the real MLflow client."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from runkit import mlflow_client

from fixkit import fix_of, paste
from fwkit import Repo

BRANCH = "experiment/sqlite"


@pytest.fixture
def hooked(repo: Repo) -> Repo:
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\nruns:\n  verify: false\n")
    repo.git("add", ".flowwarden.yaml")
    repo.git("commit", "-qm", "Adopt flowwarden")
    repo.install_shims()
    repo.git("switch", "-qc", BRANCH)
    return repo


def a_run(uri: str) -> str:
    """A finished run logged to the store at `uri` with the real MLflow client."""
    client = mlflow_client(uri)
    experiment = client.create_experiment(f"e-{uuid.uuid4().hex[:8]}")
    run = client.create_run(experiment, tags={"mlflow.source.git.branch": BRANCH})
    client.log_metric(run.info.run_id, "val_accuracy", 0.9)
    client.set_terminated(run.info.run_id, "FINISHED")
    return str(run.info.run_id)


def commit_all(repo: Repo, run_id: str) -> str:
    repo.write("train.py", f"# {uuid.uuid4().hex}\n")
    repo.git("add", "-A")
    return f"Train\n\nMLflow-Run-Id: {run_id}\n"


def tracked(repo: Repo) -> list[str]:
    return repo.git("ls-files").out.split()


def test_a_small_mlflow_db_is_refused_and_the_fix_untracks_it(hooked: Repo) -> None:
    run_id = a_run(f"sqlite:///{hooked.path / 'mlflow.db'}")
    assert (hooked.path / "mlflow.db").stat().st_size < 1024 * 1024  # under data.max_size
    message = commit_all(hooked, run_id)
    refused = hooked.git("commit", "-m", message, check=False)
    assert "MLflow tracking store mlflow.db" in refused.text, refused.text
    fix = fix_of(refused, "dvc-untracked-data")
    paste(hooked, fix)
    assert hooked.git("commit", "-m", message, check=False).code == 0
    assert "mlflow.db" not in tracked(hooked) and ".gitignore" in tracked(hooked)
    assert hooked.git("status", "--porcelain").out == ""  # ignored now, not untracked
    a_run(f"sqlite:///{hooked.path / 'mlflow.db'}")  # the store keeps working, unseen by git
    assert hooked.git("status", "--porcelain").out == ""


def test_an_mlruns_store_is_one_finding_and_one_fix(hooked: Repo,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps it, reluctantly
    hooked.write(".gitignore", "*.pyc")  # no final newline: the fix must not glue onto it
    run_id = a_run((hooked.path / "mlruns").as_uri())
    (hooked.path / "mlartifacts").mkdir()
    (hooked.path / "mlartifacts" / "model.txt").write_text("weights\n")
    message = commit_all(hooked, run_id)
    refused = hooked.git("commit", "-m", message, check=False)
    assert refused.text.count("MLflow tracking store mlruns,") == 1, refused.text
    assert refused.text.count("MLflow tracking store mlartifacts,") == 1, refused.text
    for _store in range(2):  # each store's fix, pasted in turn
        paste(hooked, fix_of(refused, "dvc-untracked-data"))
        refused = hooked.git("commit", "-m", message, check=False)
    assert refused.code == 0, refused.text
    assert not [p for p in tracked(hooked) if p.startswith(("mlruns/", "mlartifacts/"))]
    assert "*.pyc\n" in (hooked.path / ".gitignore").read_text()


def test_a_store_under_a_fixtures_directory_is_not_refused(hooked: Repo) -> None:
    run_id = a_run(f"sqlite:///{hooked.path / 'tests' / 'fixtures' / 'mlflow.db'}")
    message = commit_all(hooked, run_id)
    assert hooked.git("commit", "-m", message, check=False).code == 0


def test_a_committed_store_is_refused_at_push(hooked: Repo, tmp_path: Path) -> None:
    run_id = a_run(f"sqlite:///{hooked.path / 'mlflow.db'}")
    hooked.git("commit", "-qm", commit_all(hooked, run_id), "--no-verify")
    hooked.git("init", "-q", "--bare", str(tmp_path / "origin.git"))
    hooked.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    refused = hooked.git("push", "origin", BRANCH, check=False)
    paste(hooked, fix_of(refused, "dvc-untracked-data"))
    assert hooked.git("push", "origin", BRANCH, check=False).code == 0
    assert "mlflow.db" not in tracked(hooked)
