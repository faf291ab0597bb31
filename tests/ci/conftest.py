"""The `server` fixture: a bare repository and a developer clone that pushes to it."""
from __future__ import annotations

from pathlib import Path

import pytest

from .cikit import Server


@pytest.fixture
def server(tmp_path: Path, env: dict[str, str]) -> Server:
    return Server(tmp_path, env)
