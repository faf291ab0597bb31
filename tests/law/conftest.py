"""Fixtures for the hostile suite: a server with the real pre-receive hook."""
from __future__ import annotations

from pathlib import Path

import pytest

from ci.cikit import Server


@pytest.fixture
def server(tmp_path: Path, env: dict[str, str]) -> Server:
    return Server(tmp_path, env)


@pytest.fixture
def guarded(server: Server) -> Server:
    server.install_pre_receive()
    return server
