"""Quiet when nothing is wrong, under the real pre-commit framework: a passing hook is one
line, a warning still reaches the terminal, and a stage the shim already ran runs once."""
from __future__ import annotations

import pytest

from fwkit import Repo, in_terminal, pre_commit

pytestmark = pytest.mark.slow


def test_a_passing_commit_prints_one_line_per_hook(pc_repo: Repo) -> None:
    pc_repo.git("switch", "-q", "-c", "feature/quiet")
    pc_repo.write("model.py", "x = 1\n")
    pc_repo.git("add", "model.py")
    result = in_terminal(pc_repo, "commit", "-qm", "Add the model")
    assert result.code == 0, result.text
    lines = [line for line in result.out.splitlines() if line.strip()]
    assert all("Passed" in line or "Skipped" in line for line in lines), result.out
    assert len(lines) <= 3, result.out  # pre-commit, prepare-commit-msg, commit-msg


def test_a_warning_reaches_the_terminal_though_the_hook_passes(pc_repo: Repo) -> None:
    result = in_terminal(pc_repo, "switch", "-c", "Fix_Stuff")
    assert result.code == 0, result.text
    assert "warning: branch-name: Fix_Stuff" in result.out, result.out


def test_a_stage_the_shim_already_ran_is_not_checked_again(pc_repo: Repo) -> None:
    pc_repo.git("switch", "-q", "develop")
    pc_repo.write("model.py", "x = 1\n")
    pc_repo.git("add", "model.py")
    refused = pc_repo.git("commit", "-qm", "Direct", check=False)
    assert refused.code == 1 and "protected-branch" in refused.text
    shim_ran = Repo(pc_repo.path, {**pc_repo.env, "FLOWWARDEN_HOOK_RAN": "pre-commit"})
    once = shim_ran.git("commit", "-qm", "Direct", check=False)
    assert once.code == 0 and "protected-branch" not in once.text, once.text


def test_shims_installed_before_the_framework_check_each_stage_once(
        pc_repo: Repo, env: dict[str, str]) -> None:
    """`flowwarden install`, then `pre-commit install` (which keeps the shim as its
    `.legacy` hook): the shim checks, the framework's flowwarden hook does not again."""
    assert pre_commit(pc_repo, "uninstall").code == 0
    assert Repo(pc_repo.path, env).fw("install").code == 0
    assert pre_commit(pc_repo, "install").code == 0
    assert (pc_repo.path / ".git" / "hooks" / "pre-commit.legacy").exists()
    pc_repo.git("switch", "-q", "develop")
    pc_repo.write("model.py", "x = 1\n")
    pc_repo.git("add", "model.py")
    refused = pc_repo.git("commit", "-qm", "Direct", check=False)
    assert refused.code != 0
    assert refused.text.count("protected-branch:") == 1, refused.text
