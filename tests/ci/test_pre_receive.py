"""The server side: a bare repository with flowwarden's pre-receive hook, pushed to over
file:// by real `git push`. What --no-verify skips on a laptop is refused here."""
from __future__ import annotations

import pytest

from fwkit import Repo, Result

from .cikit import Server


@pytest.fixture
def guarded(server: Server) -> Server:
    server.install_pre_receive()
    return server


def push(repo: Repo, *args: str) -> Result:
    return repo.git("push", "origin", *args, check=False)


def refused(result: Result, rule: str) -> None:
    assert result.code != 0, result.text
    assert "pre-receive hook declined" in result.err, result.text
    assert rule in result.err, result.text


def feature(dev: Repo, name: str = "feature/x", files: int = 1) -> None:
    dev.git("switch", "-q", "-c", name, "develop")
    for i in range(files):
        dev.commit_file(f"src/{name.split('/')[-1]}_{i}.py", f"x = {i}\n", f"Add step {i}")


def test_a_fast_forward_of_a_feature_into_main_is_refused(guarded: Server) -> None:
    dev = guarded.dev
    feature(dev)
    dev.git("switch", "-q", "main")
    dev.git("merge", "-q", "--ff-only", "feature/x")
    result = push(dev, "main")
    refused(result, "protected-history")
    assert "main" in result.err
    assert guarded.dev.git("ls-remote", "origin", "refs/heads/main").out.split()[0] != \
        dev.sha("main")


def test_a_no_verify_commit_on_develop_is_refused(guarded: Server) -> None:
    dev = guarded.dev
    dev.git("switch", "-q", "develop")
    dev.commit_file("train.py", "lr = 0.1\n", "Tune the learning rate", "--no-verify")
    refused(push(dev, "develop"), "protected-history")


def test_a_force_push_and_a_deletion_of_main_are_refused(guarded: Server) -> None:
    dev = guarded.dev
    dev.git("switch", "-q", "main")
    dev.git("commit", "-q", "--amend", "-m", "Rewritten history", "--no-verify")
    refused(push(dev, "--force", "main"), "force-push")
    refused(push(dev, ":main"), "branch-delete")
    assert "refs/heads/main" in dev.git("ls-remote", "origin").out


def legal_release(server: Server, version: str = "1.2.0") -> Repo:
    """feature -> develop -> release -> main and develop, each pushed; returns the clone."""
    dev = server.dev
    feature(dev)
    assert push(dev, "feature/x").code == 0
    dev.git("switch", "-q", "develop")
    dev.git("merge", "-q", "--no-ff", "feature/x", "-m", "Merge branch 'feature/x' into develop")
    assert push(dev, "develop").code == 0, "develop"
    dev.git("switch", "-q", "-c", f"release/{version}", "develop")
    dev.commit_file("VERSION", f"{version}\n", f"Bump version to {version}")
    result = push(dev, f"release/{version}")
    assert result.code == 0, result.text
    dev.git("switch", "-q", "main")
    dev.git("merge", "-q", "--no-ff", f"release/{version}", "-m",
            f"Merge branch 'release/{version}'")
    result = push(dev, "main")
    assert result.code == 0, result.text
    return dev


def test_a_release_deleted_before_it_reached_develop_is_refused(guarded: Server) -> None:
    dev = legal_release(guarded)
    result = push(dev, ":release/1.2.0")
    refused(result, "branch-delete")
    assert "develop" in result.err


def test_a_legal_release_flow_passes(guarded: Server) -> None:
    dev = legal_release(guarded)
    dev.git("switch", "-q", "develop")
    dev.git("merge", "-q", "--no-ff", "release/1.2.0", "-m",
            "Merge branch 'release/1.2.0' into develop")
    assert push(dev, "develop").code == 0
    result = push(dev, ":release/1.2.0")
    assert result.code == 0, result.text
    assert "release/1.2.0" not in dev.git("ls-remote", "origin").out


def test_a_policy_loosened_on_a_feature_branch_does_not_help_it(guarded: Server) -> None:
    dev = guarded.dev
    feature(dev)
    dev.write(".flowwarden.yaml", "version: 1\nextends: gitflow-ml\nbranches:\n"
                                  "  feature:\n    into: [develop, main]\n")
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "Let features merge into main")
    assert push(dev, "feature/x").code == 0
    dev.git("switch", "-q", "main")
    dev.git("merge", "-q", "--no-ff", "feature/x", "-m", "Merge branch 'feature/x'")
    result = push(dev, "main")
    refused(result, "protected-history")
    assert "merges feature/x (feature)" in result.err


def test_a_broken_policy_on_the_server_fails_closed_without_suggesting_no_verify(
        server: Server) -> None:
    """--no-verify cannot skip pre-receive: the server must not offer it as a way out."""
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dev.write(".flowwarden.yaml", "version: 1\nextends: gitflow-ml\nbranches: [oops]\n")
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "Merge branch 'feature/policy' into develop", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    server.install_pre_receive()
    dev.commit_file("train.py", "lr = 0.1\n", "Tune the learning rate", "--no-verify")
    result = push(dev, "develop")
    assert result.code != 0, result.text
    assert "policy error" in result.err and ".flowwarden.yaml:3" in result.err
    assert "--no-verify" not in result.err, result.err
