"""Shared fixtures: real git repositories and a real `flowwarden` on PATH for git hooks."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fwkit import SRC, PreCommitSetup, Repo, clean_env, make_repo, pre_commit, snapshot_project


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: builds virtualenvs or big histories; "
                                       "deselect with -m 'not slow'")


@pytest.fixture(scope="session")
def fw_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bin directory whose `flowwarden` runs this checkout's source with this Python."""
    bin_dir = tmp_path_factory.mktemp("bin")
    script = bin_dir / "flowwarden"
    script.write_text(f'#!/bin/sh\nPYTHONPATH="{SRC}${{PYTHONPATH:+:$PYTHONPATH}}" '
                      f'exec "{sys.executable}" -m flowwarden "$@"\n')
    script.chmod(0o755)
    return bin_dir


@pytest.fixture
def env(fw_bin: Path, tmp_path: Path) -> dict[str, str]:
    """A clean environment: fixed identity, no user git config, this flowwarden first on PATH."""
    return clean_env(fw_bin, tmp_path / "home")


@pytest.fixture
def repo(tmp_path: Path, env: dict[str, str]) -> Repo:
    return make_repo(tmp_path / "repo", env)


@pytest.fixture
def shim_repo(repo: Repo) -> Iterator[Repo]:
    """`repo` with flowwarden's shims as its hooks."""
    repo.install_shims()
    yield repo


@pytest.fixture(scope="session")
def precommit_setup(tmp_path_factory: pytest.TempPathFactory, fw_bin: Path) -> PreCommitSetup:
    """Snapshot this checkout and let pre-commit build its hook virtualenv once (pip, PyPI)."""
    root = tmp_path_factory.mktemp("precommit")
    base = clean_env(fw_bin, root / "home")
    rev = snapshot_project(root / "snapshot", base)
    setup = PreCommitSetup(root / "snapshot", rev, root / "cache", fw_bin)
    template = make_repo(root / "template", setup.env(base))
    template.write(".pre-commit-config.yaml", setup.config)
    built = pre_commit(template, "install-hooks")
    if built.code != 0:
        raise AssertionError(f"pre-commit install-hooks failed:\n{built.text}")
    return setup


@pytest.fixture
def pc_repo(tmp_path: Path, env: dict[str, str], precommit_setup: PreCommitSetup) -> Repo:
    """`repo`'s layout with flowwarden installed through `pre-commit install`, config committed."""
    repo = make_repo(tmp_path / "pc-repo", precommit_setup.env(env))
    repo.write(".pre-commit-config.yaml", precommit_setup.config)
    repo.git("add", ".pre-commit-config.yaml")
    repo.git("commit", "-qm", "Add pre-commit config")
    repo.git("branch", "-f", "develop", "main")
    installed = pre_commit(repo, "install")
    if installed.code != 0:
        raise AssertionError(f"pre-commit install failed:\n{installed.text}")
    return repo



#: How flowwarden is installed in a user's repository: `hooks/` as core.hooksPath, or the real
#: pre-commit framework (its hook env built once per session, so those runs are marked slow).
INSTALL_MODES = ("shims", pytest.param("framework", marks=pytest.mark.slow))


@pytest.fixture(params=INSTALL_MODES)
def install_mode(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
def hooked_repo(install_mode: str, request: pytest.FixtureRequest) -> Repo:
    """`repo`'s layout with flowwarden's hooks installed the `install_mode` way: a scenario
    written once runs under the shims and under the pre-commit framework."""
    fixture = "shim_repo" if install_mode == "shims" else "pc_repo"
    hooked: Repo = request.getfixturevalue(fixture)
    return hooked
