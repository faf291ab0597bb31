"""DVC fixtures: real `dvc init` and a real local-directory remote in a real git repository.

Helpers live in dvckit.py: test modules cannot import from a `conftest`.
"""
from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from dvckit import dvc

from fwkit import Repo


@pytest.fixture
def env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The shared clean environment, with DVC kept quiet and inside the test's tmp dir."""
    env.update({"DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(tmp_path / "dvc-site"),
                "XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    return env


@pytest.fixture
def dvc_repo(repo: Repo, tmp_path: Path) -> Repo:
    """A git repository set up with `dvc init` and a local-directory default remote.

    The set-up commit is on both main and develop.
    """
    dvc(repo, "init", "-q")
    dvc(repo, "remote", "add", "-d", "storage", str(tmp_path / "dvc-remote"))
    repo.git("add", ".dvc")
    repo.git("commit", "-qm", "Set up DVC")
    repo.git("branch", "-f", "develop", "main")
    return repo


@pytest.fixture
def pushed(dvc_repo: Repo, tmp_path: Path) -> Repo:
    """`dvc_repo` with a bare git remote `origin` that already has main."""
    dvc_repo.git("init", "-q", "--bare", str(tmp_path / "origin.git"))
    dvc_repo.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    dvc_repo.git("push", "-q", "origin", "main")
    return dvc_repo


@pytest.fixture
def http_remote(tmp_path: Path) -> Iterator[str]:
    """The local DVC remote directory served read-only over HTTP on 127.0.0.1."""
    root = tmp_path / "dvc-remote"
    root.mkdir(exist_ok=True)
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass
