"""The `server` fixture of the CI tests: a bare repository and a developer clone."""
from __future__ import annotations

from pathlib import Path

import pytest

from ci.cikit import Server


@pytest.fixture
def server(tmp_path: Path, env: dict[str, str]) -> Server:
    return Server(tmp_path, env)
