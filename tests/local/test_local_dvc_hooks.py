"""`dvc install`, then `flowwarden install`: DVC's pre-push (`dvc push`) runs before the
dvc-not-pushed check, so a push after `dvc add` needs no separate `dvc push`."""
from __future__ import annotations

import subprocess
from pathlib import Path

from fwkit import Repo


def dvc(repo: Repo, env: dict[str, str], *args: str) -> None:
    done = subprocess.run(["dvc", *args], cwd=repo.path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dvc_install_then_flowwarden_install_pushes_data_first(repo: Repo,
                                                               tmp_path: Path) -> None:
    env = {**repo.env, "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(tmp_path / "site"),
           "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    repo.env.update(env)
    dvc(repo, env, "init", "-q")
    dvc(repo, env, "remote", "add", "-d", "storage", str(tmp_path / "dvc-remote"))
    repo.git("add", ".dvc")
    repo.git("commit", "-qm", "Set up DVC")
    repo.git("branch", "-f", "develop", "main")
    repo.git("init", "-q", "--bare", str(tmp_path / "origin.git"))
    repo.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    repo.git("push", "-q", "origin", "main", "develop")
    repo.git("switch", "-q", "-c", "feature/data", "develop")
    dvc(repo, env, "install")
    installed = repo.fw("install")
    assert installed.code == 0 and "pre-push.pre-flowwarden" in installed.text, installed.text
    repo.write("data/train.csv", "a,b\n1,2\n")
    dvc(repo, env, "add", "-q", "data/train.csv")
    repo.git("add", "data/train.csv.dvc", "data/.gitignore")
    committed = repo.git("commit", "-qm", "Track the training data with DVC", check=False)
    assert committed.code == 0, committed.text
    pushed = repo.git("push", "-u", "origin", "feature/data", check=False)
    assert pushed.code == 0, pushed.text
    assert "dvc-not-pushed" not in pushed.text
    assert any((tmp_path / "dvc-remote").rglob("*")), "dvc push did not run"
