"""The policy file's form: a symlinked policy is a policy error everywhere (work tree and
server alike), and a `.flowwarden.yml` is reported, never silently ignored."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ci.cikit import Server
from fwkit import Repo

from .lawkit import bounded, push, refused


def validate(repo: Repo) -> tuple[int, str]:
    result = bounded([sys.executable, "-m", "flowwarden", "policy", "validate"], repo.path,
                     repo.env)
    return result.code, result.text


def test_a_symlinked_policy_is_refused_locally_even_inside_the_repository(repo: Repo) -> None:
    repo.write("policies/team.yaml", "extends: gitflow-ml\n")
    os.symlink("policies/team.yaml", repo.path / ".flowwarden.yaml")
    code, out = validate(repo)
    assert code == 2, out
    assert ".flowwarden.yaml:1:1" in out and "symbolic link" in out, out


def test_a_symlink_pointing_outside_the_repository_is_not_followed(repo: Repo,
                                                                   tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("extends: gitflow-ml\nrules:\n  protected-branch: {severity: off}\n")
    os.symlink(outside, repo.path / ".flowwarden.yaml")
    code, out = validate(repo)
    assert code == 2 and "symbolic link" in out, out
    repo.git("switch", "-q", "develop")
    result = repo.fw("check", "--branch", "feature/x")
    assert result.code == 2 and "symbolic link" in result.text, result.text


def test_a_symlinked_policy_on_the_server_is_the_same_policy_error(server: Server) -> None:
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dev.write("policies/team.yaml", "extends: gitflow-ml\n")
    os.symlink("policies/team.yaml", dev.path / ".flowwarden.yaml")
    dev.git("add", "-A")
    dev.git("commit", "-qm", "Policy by link", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    server.install_pre_receive()
    dev.git("switch", "-q", "-c", "feature/x", "develop")
    dev.commit_file("src/a.py", "a = 1\n", "Work")
    result = push(dev, "feature/x")
    refused(result, ".flowwarden.yaml", "symbolic link")
    assert "got str" not in result.err


def test_a_yml_policy_is_reported_with_the_rename(repo: Repo) -> None:
    repo.write(".flowwarden.yml", "extends: gitflow-ml\n")
    code, out = validate(repo)
    assert code == 2, out
    assert ".flowwarden.yml" in out and "git mv .flowwarden.yml .flowwarden.yaml" in out, out


def test_a_yml_next_to_the_yaml_is_reported_too(repo: Repo) -> None:
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\n")
    repo.write(".flowwarden.yml", "extends: gitflow-ml\nrules: {}\n")
    code, out = validate(repo)
    assert code == 2 and "alone is read" in out, out


def test_an_extends_file_behind_a_symlink_is_not_followed(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "team.yaml").write_text("extends: gitflow-ml\n")
    os.symlink(outside, repo.path / "policies")
    repo.write(".flowwarden.yaml", "extends: policies/team.yaml\n")
    code, out = validate(repo)
    assert code == 2 and "symbolic link" in out and "policies/team.yaml" in out, out


def test_a_symlinked_extends_file_on_the_server_is_the_same_policy_error(
        server: Server) -> None:
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dev.write("policies/base.yaml", "extends: gitflow-ml\n")
    os.symlink("base.yaml", dev.path / "policies" / "team.yaml")
    dev.write(".flowwarden.yaml", "extends: policies/team.yaml\n")
    dev.git("add", "-A")
    dev.git("commit", "-qm", "Policy through a link", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    server.install_pre_receive()
    dev.git("switch", "-q", "-c", "feature/x", "develop")
    dev.commit_file("src/a.py", "a = 1\n", "Work")
    refused(push(dev, "feature/x"), "policies/team.yaml", "symbolic link")
