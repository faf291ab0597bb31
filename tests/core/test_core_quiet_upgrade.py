"""The quiet plan is keyed by flowwarden's version: after an upgrade the message stages start
the interpreter again (and re-plan), instead of trusting a plan the old version made."""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from corekit import quiet

from fwkit import Repo, run

PROJECT_SRC = Path(__file__).resolve().parents[2] / "src" / "flowwarden"


def started(log: Path) -> list[str]:
    """The hook stages that started Python since the log was last cleared."""
    if not log.exists():
        return []
    words = [line.split() for line in log.read_text().splitlines()]
    return [w[w.index("hook") + 1] for w in words if "hook" in w]


def test_an_upgrade_re_plans_the_message_stages(repo: Repo, tmp_path: Path) -> None:
    site = tmp_path / "site"  # an installed flowwarden that the test can upgrade in place
    shutil.copytree(PROJECT_SRC, site / "flowwarden",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PROJECT_SRC.parents[1] / "policies", site / "flowwarden" / "policies")
    repo.env["PYTHONPATH"] = str(site)
    python = tmp_path / "venv-bin" / "python"
    python.parent.mkdir()
    python.symlink_to(sys.executable)
    assert run([str(python), "-m", "flowwarden", "install"], repo.path, repo.env).code == 0
    log = tmp_path / "python.log"
    python.unlink()
    python.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    quiet(repo, "switch", "-q", "-c", "feature/x", "develop")
    assert repo.commit_file("model.py", "print('a')\n", "Try a wider encoder").code == 0
    message = repo.write(".git/COMMIT_EDITMSG", "Try a wider encoder\n")
    hook = [str(repo.path / ".git" / "hooks" / "commit-msg"), str(message)]

    log.unlink()
    assert run(hook, repo.path, repo.env).code == 0
    assert started(log) == []  # the plan holds: no interpreter

    version = site / "flowwarden" / "__init__.py"
    version.write_text(re.sub(r'__version__ = "[^"]*"', '__version__ = "99.0.0"',
                              version.read_text()))
    assert run(hook, repo.path, repo.env).code == 0
    assert started(log) == ["commit-msg"]  # the new version judges, and re-plans

    log.unlink()
    assert run(hook, repo.path, repo.env).code == 0
    assert started(log) == []
