"""An experiment branch moved from a local sqlite store to the team's shared server: commits
citing runs of the local `mlflow.db` are refused with the way out, and following it (log
the run again to the server, reword each named commit) lets the push through. A real
`mlflow server` on 127.0.0.1, a real local store, real hooks (the shims)."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from runkit import Runs, branch_run, head_time_ms, mlflow_client

from fixkit import assert_words, fix_of
from fwkit import Repo

BRANCH_PREFIX = "experiment/moved"


def policy(uri: str) -> str:
    return f"extends: gitflow-ml\nruns:\n  tracking_uri: {uri}\n"


def a_run(client: Any, branch: str, repo: Repo, offset: int = 1000) -> str:
    experiment = client.create_experiment(f"moved-{uuid.uuid4().hex[:8]}")
    return branch_run(client, experiment, branch, head_time_ms(repo) + offset,
                      commit=repo.sha())


def commit(repo: Repo, subject: str, run_id: str) -> None:
    repo.write("train.py", f"# {uuid.uuid4().hex}\n")
    repo.git("add", "train.py")
    repo.git("commit", "-qm", f"{subject}\n\nMLflow-Run-Id: {run_id}\n")


def test_commits_citing_local_runs_name_the_way_to_the_server(
        repo: Repo, client: Any, server_runs: Runs, tmp_path: Path) -> None:
    branch = f"{BRANCH_PREFIX}-{uuid.uuid4().hex[:6]}"
    repo.write(".gitignore", "mlflow.db\n")
    repo.write(".flowwarden.yaml", policy("sqlite:///mlflow.db"))
    repo.git("add", ".gitignore", ".flowwarden.yaml")
    repo.git("commit", "-qm", "Adopt flowwarden with the local store")
    repo.git("branch", "-f", "develop", "main")
    repo.git("init", "-q", "--bare", str(tmp_path / "origin.git"))
    repo.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    repo.install_shims()
    repo.git("switch", "-qc", branch, "develop")
    local = mlflow_client(f"sqlite:///{repo.path / 'mlflow.db'}")
    first = a_run(local, branch, repo)
    commit(repo, "Widen the encoder", first)  # the hooks check the local store: it passes
    second = a_run(local, branch, repo)
    commit(repo, "Deepen it", second)

    # the team moves to the shared server: develop's policy now names it
    repo.git("switch", "-q", "develop")
    repo.write(".flowwarden.yaml", policy(server_runs.uri))
    repo.git("commit", "-qam", "Track runs on the shared server", "--no-verify")  # as merged
    repo.git("push", "-q", "--no-verify", "origin", "main", "develop")  # the server's state
    repo.git("switch", "-q", branch)
    repo.git("rebase", "-q", "develop")
    old = repo.git("rev-list", "--reverse", "develop..HEAD").out.split()

    refused = repo.git("push", "origin", branch, check=False)
    fix = fix_of(refused, "mlflow-run-unknown")
    assert_words(fix, repo.env)
    assert f"in the local store sqlite:///mlflow.db, not in {server_runs.uri}" in refused.text
    assert "runs.tracking_uri" in refused.text and server_runs.uri in fix
    assert any(f"reword commit {sha[:10]}" in fix for sha in old), fix
    assert "2 commits cite runs only in a local store: " in refused.text  # both named
    assert old[0][:10] in refused.text and old[1][:10] in refused.text

    # as the words say: log each run again to the server, reword each commit named
    repo.git("-c", "sequence.editor=sed -i -e s/^pick/edit/", "rebase", "-q", "-i", "develop")
    for _commit in old:
        again = a_run(client, branch, repo, offset=5000)
        repo.git("-c", "trailer.ifexists=replace", "commit", "-q", "--amend", "--no-edit",
                 "--trailer", f"MLflow-Run-Id: {again}")
        repo.git("rebase", "--continue", env={"GIT_EDITOR": "true"})
    pushed = repo.git("push", "origin", branch, check=False)
    assert pushed.code == 0, pushed.text
