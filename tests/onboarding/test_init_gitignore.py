"""`flowwarden init` keeps MLflow's local tracking stores out of git: it adds `mlflow.db`,
`mlruns/` and `mlartifacts/` to `.gitignore`, appending to one that exists, and --undo
puts it back."""
from __future__ import annotations

from fwkit import Repo


def test_init_ignores_the_stores_a_real_mlflow_client_writes(repo: Repo) -> None:
    result = repo.fw("init")
    assert result.code == 0, result.text
    assert "created .gitignore" in result.out
    from mlflow.tracking import MlflowClient  # imported by tests only

    client = MlflowClient(tracking_uri=f"sqlite:///{repo.path / 'mlflow.db'}")
    client.set_terminated(client.create_run("0").info.run_id)
    (repo.path / "mlruns" / "0").mkdir(parents=True)
    (repo.path / "mlruns" / "0" / "meta.yaml").write_text("name: Default\n")
    (repo.path / "mlartifacts").mkdir()
    (repo.path / "mlartifacts" / "model.pkl").write_bytes(b"\0weights")
    untracked = repo.git("status", "--porcelain", "--untracked-files=all").out
    assert "mlflow.db" not in untracked and "mlruns" not in untracked, untracked
    assert "mlartifacts" not in untracked and ".gitignore" in untracked
    repo.fw("init", "--undo")
    assert not (repo.path / ".gitignore").exists()


def test_init_appends_to_an_existing_gitignore(repo: Repo) -> None:
    (repo.path / ".gitignore").write_text("*.pyc\n/mlruns")  # no final newline
    assert repo.fw("init").code == 0
    text = (repo.path / ".gitignore").read_text()
    assert text.startswith("*.pyc\n/mlruns\n")  # kept, and not glued onto
    assert text.count("mlruns") == 1  # there already: not added twice
    assert text.endswith("mlflow.db\nmlartifacts/\n")
    assert (repo.fw("init").code, repo.fw("init").out) == (0, "flowwarden init: nothing to "
                                                           "change\n")
    repo.fw("init", "--undo")
    assert (repo.path / ".gitignore").read_text() == "*.pyc\n/mlruns"
