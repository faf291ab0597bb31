"""`dvc exp push` runs no local hook: the server's pre-receive judges refs/exps/* pushes.

A real `dvc exp run`, a real `dvc exp push` through `git daemon` on 127.0.0.1 (DVC pushes to a
plain path without receive-pack, so without any hook), and flowwarden's pre-receive shim.
"""
from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dvckit import dvc

from fwkit import HOOKS, Repo, run

PIPELINE = """\
stages:
  train:
    cmd: python -c "import yaml; print(yaml.safe_load(open('params.yaml'))['lr'])" > model.txt
    params: [lr]
    outs: [model.txt]
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(dvc_repo: Repo, tmp_path: Path) -> Iterator[str]:
    """A bare repository with flowwarden's pre-receive, seeded with main and develop (the
    pipeline and a pushed first run on main), served read-write by `git daemon`."""
    dvc_repo.write("params.yaml", "lr: 0.01\n")
    dvc_repo.write("dvc.yaml", PIPELINE)
    dvc(dvc_repo, "repro", "-q")
    dvc_repo.git("add", "-A")
    dvc_repo.git("commit", "-qm", "Train pipeline")
    dvc_repo.git("branch", "-f", "develop", "main")
    dvc(dvc_repo, "push", "-q")
    bare = tmp_path / "srv" / "model.git"
    dvc_repo.git("init", "-q", "--bare", "-b", "main", str(bare))
    dvc_repo.git("push", "-q", str(bare), "main", "develop")
    dvc_repo.git("-C", str(bare), "config", "core.hooksPath", str(HOOKS))
    port = free_port()
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}",
         f"--base-path={bare.parent}", "--export-all", "--enable=receive-pack",
         "--informative-errors", str(bare.parent)],
        env=dvc_repo.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"git://127.0.0.1:{port}/model.git"
    for _ in range(50):  # until it listens
        if run(["git", "ls-remote", url], dvc_repo.path, dvc_repo.env).code == 0:
            break
        time.sleep(0.1)
    dvc_repo.git("remote", "add", "origin", url)
    try:
        yield str(bare)
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def exp_run(repo: Repo, lr: str) -> str:
    dvc(repo, "exp", "run", "-q", "-S", f"lr={lr}", "--name", f"lr-{lr.replace('.', '')}")
    return f"lr-{lr.replace('.', '')}"


def exp_ref(repo: Repo, name: str) -> str:
    refs = repo.git("for-each-ref", "--format=%(refname)", "refs/exps").out.split()
    return next(r for r in refs if r.endswith("/" + name))


def exp_refs(bare: str, repo: Repo) -> str:
    return repo.git("-C", bare, "for-each-ref", "refs/exps").out


def test_exp_push_without_its_data_is_refused_by_the_server(server: str, dvc_repo: Repo) -> None:
    name = exp_run(dvc_repo, "0.5")
    refused = run(["dvc", "exp", "push", "--no-cache", "origin", name], dvc_repo.path,
                  dvc_repo.env)
    assert refused.code != 0 and "pre-receive hook declined" in refused.text, refused.text
    assert exp_refs(server, dvc_repo) == ""

    # what the server said, as `git push` shows it
    ref = exp_ref(dvc_repo, name)
    said = dvc_repo.git("push", "origin", f"{ref}:{ref}", check=False)
    assert said.code != 0
    assert "remote: error: dvc-not-pushed: model.txt" in said.text
    assert "is not in DVC remote storage" in said.text
    fix = f"dvc exp apply {name} && dvc push -r storage && dvc exp push origin {name}"
    assert f"fix: {fix}" in said.text

    # `dvc exp push` alone sends the git ref before the data: refused again
    assert run(["dvc", "exp", "push", "origin", name], dvc_repo.path, dvc_repo.env).code != 0
    accepted = run(["sh", "-c", fix], dvc_repo.path, dvc_repo.env)
    assert accepted.code == 0, accepted.text
    assert name in exp_refs(server, dvc_repo)


def test_server_reads_the_dvc_remote_from_the_protected_config(server: str, dvc_repo: Repo,
                                                                tmp_path: Path) -> None:
    """An experiment that points the remote at a copy holding its data is still refused:
    the server checks the remote main's committed .dvc/config names."""
    elsewhere = tmp_path / "elsewhere"
    dvc(dvc_repo, "remote", "modify", "storage", "url", str(elsewhere))
    dvc_repo.git("commit", "-qm", "Point DVC at another remote", ".dvc/config")
    name = exp_run(dvc_repo, "0.7")
    dvc(dvc_repo, "exp", "apply", name)
    dvc(dvc_repo, "push", "-q", "-r", "storage")  # the data goes to `elsewhere`
    assert (elsewhere / "files").is_dir()

    refused = run(["dvc", "exp", "push", "origin", name], dvc_repo.path, dvc_repo.env)
    assert refused.code != 0 and "pre-receive hook declined" in refused.text
    assert exp_refs(server, dvc_repo) == ""
    said = dvc_repo.git("push", "origin", f"{exp_ref(dvc_repo, name)}:refs/exps/by-hand/{name}",
                        check=False)
    assert "dvc-not-pushed: model.txt" in said.text
    assert f"DVC remote storage ({tmp_path / 'dvc-remote'})" in said.text
    assert str(elsewhere) not in said.text


def test_server_asks_an_http_remote_through_dvc(dvc_repo: Repo, tmp_path: Path,
                                                http_remote: str) -> None:
    """A remote flowwarden does not read itself is asked through DVC at the server too,
    reading the pushed commits from git's quarantine directory."""
    dvc(dvc_repo, "remote", "add", "-d", "web", http_remote)
    dvc_repo.git("commit", "-qm", "Serve the DVC remote over HTTP", ".dvc/config")
    dvc_repo.git("branch", "-f", "develop", "main")
    bare = tmp_path / "plain.git"
    dvc_repo.git("init", "-q", "--bare", "-b", "main", str(bare))
    dvc_repo.git("push", "-q", str(bare), "main", "develop")
    dvc_repo.git("-C", str(bare), "config", "core.hooksPath", str(HOOKS))
    dvc_repo.git("switch", "-q", "-c", "feature/data", "develop")
    for i in range(3):
        dvc_repo.write(f"images/{i}.txt", f"image {i}\n")
    dvc(dvc_repo, "add", "-q", "images")
    dvc_repo.git("add", "images.dvc", ".gitignore")
    dvc_repo.git("commit", "-qm", "Track images")

    refused = dvc_repo.git("push", str(bare), "feature/data", check=False)
    assert refused.code != 0
    assert "remote: error: dvc-not-pushed: images" in refused.text
    assert f"is not in DVC remote web ({http_remote})" in refused.text

    dvc(dvc_repo, "push", "-q", "-r", "storage")  # the directory the HTTP server serves
    accepted = dvc_repo.git("push", str(bare), "feature/data", check=False)
    assert accepted.code == 0, accepted.text


def test_server_without_a_committed_remote_cannot_check_and_the_policy_decides(
        repo: Repo, tmp_path: Path) -> None:
    """The team's remote is in each member's global DVC config: the server cannot tell."""
    dvc(repo, "init", "-q")
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\ndata:\n  unreachable_remote: warn\n")
    repo.git("add", ".dvc", ".flowwarden.yaml")
    repo.git("commit", "-qm", "Set up DVC")
    repo.git("branch", "-f", "develop", "main")
    dvc(repo, "remote", "add", "--global", "-d", "storage", str(tmp_path / "dvc-remote"))
    bare = tmp_path / "team.git"
    repo.git("init", "-q", "--bare", "-b", "main", str(bare))
    repo.git("push", "-q", str(bare), "main", "develop")
    repo.git("-C", str(bare), "config", "core.hooksPath", str(HOOKS))
    repo.git("switch", "-q", "-c", "feature/data", "develop")
    repo.write("data/train.csv", "a,b\n1,2\n")
    dvc(repo, "add", "-q", "data/train.csv")
    repo.git("add", "data/train.csv.dvc", "data/.gitignore")
    repo.git("commit", "-qm", "Track data")
    dvc(repo, "push", "-q")

    # the server's hook runs with its own DVC global config (none): a push to a path runs it
    # with the pusher's environment, so point that elsewhere for the push only
    server_home = {"XDG_CONFIG_HOME": str(tmp_path / "server-xdg")}
    result = repo.git("push", str(bare), "feature/data", check=False, env=server_home)
    assert result.code == 0, result.text  # warned, not refused: the policy says so
    assert "the server cannot check the DVC data" in result.text
    assert "no DVC remote is configured" not in result.text
