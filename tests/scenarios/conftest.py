"""Fixtures for the scenarios: a server guarded by `flowwarden install`, a developer clone."""
from __future__ import annotations

from pathlib import Path

import pytest

from .kit import Site


@pytest.fixture
def site(tmp_path: Path, env: dict[str, str]) -> Site:
    return Site(tmp_path, env)
