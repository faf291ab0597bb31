"""Adopting flowwarden on a server: the push that seeds an empty repository, then the law."""
from __future__ import annotations

from pathlib import Path

from fwkit import Repo, make_repo

from .kit import accepted, refused


def test_the_push_that_seeds_an_empty_server_is_accepted_and_said(
        tmp_path: Path, env: dict[str, str]) -> None:
    dev = make_repo(tmp_path / "dev", env)
    dev.git("switch", "-q", "main")
    dev.commit_file("setup.py", "x = 1\n", "Work from before flowwarden")  # a direct commit
    dev.git("init", "-q", "--bare", str(tmp_path / "server.git"))
    server = Repo(tmp_path / "server.git", env)
    assert server.fw("install").code == 0
    dev.git("remote", "add", "origin", f"file://{tmp_path / 'server.git'}")

    seeded = dev.git("push", "origin", "main", "develop", check=False)
    accepted(seeded)
    assert "seeds an empty repository" in seeded.err

    dev.commit_file("setup.py", "x = 2\n", "Direct commit after adoption")
    refused(dev.git("push", "origin", "main", check=False), "protected-history", "not a merge")
