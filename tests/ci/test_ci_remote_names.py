"""`flowwarden ci --source origin/feature/x --target origin/develop`: in a CI checkout, where
the branches exist only as remote-tracking refs, the names stand for the server's branches."""
from __future__ import annotations

from pathlib import Path

from .cikit import Server


def test_remote_tracking_names_are_the_servers_branches(server: Server, tmp_path: Path) -> None:
    dev = server.dev
    dev.git("switch", "-q", "-c", "feature/login", "develop")
    dev.commit_file("login.py", "x = 1\n", "Add login")
    dev.git("push", "-q", "origin", "feature/login")
    ci = server.clone(tmp_path / "ci")
    result = ci.fw("ci", "--source", "origin/feature/login", "--target", "origin/develop")
    assert result.code == 0, result.text
    assert "branch-name" not in result.text and "origin/feature/login" not in result.err, \
        result.text
    assert "feature/login into develop" in result.text, result.text


def test_a_remote_tracking_source_into_main_is_refused_by_name(server: Server,
                                                                tmp_path: Path) -> None:
    dev = server.dev
    dev.git("switch", "-q", "-c", "feature/login", "develop")
    dev.commit_file("login.py", "x = 1\n", "Add login")
    dev.git("push", "-q", "origin", "feature/login")
    ci = server.clone(tmp_path / "ci")
    result = ci.fw("ci", "--source", "origin/feature/login", "--target", "origin/main")
    assert result.code == 1, result.text
    assert "merge-target" in result.out and "branch-name" not in result.out, result.text
    assert "--delete origin/" not in result.out, result.text


def test_a_branch_not_in_the_clone_gets_a_fetch_that_works(server: Server,
                                                          tmp_path: Path) -> None:
    ci = server.clone(tmp_path / "ci")
    result = ci.fw("ci", "--source", "origin/feature/never-pushed", "--target", "origin/develop")
    assert result.code != 0, result.text
    assert "git fetch origin feature/never-pushed" in result.text, result.text
