"""Patterns run on RE2, whose `\\d`, `\\w`, `\\s` and `\\b` are ASCII-only (docs/authoring.md):
a name with another script's digits does not match `\\d`, and `policy validate` says so."""
from __future__ import annotations

from pathlib import Path

import pytest

from fwkit import Result, run

DIGITS = 'extends: gitflow-ml\nbranches:\n  feature:\n    pattern: "feature/[a-z]+-\\\\d+"\n'


def fw(tmp_path: Path, env: dict[str, str], *args: str) -> Result:
    """flowwarden in a fresh repository holding the work tree's policy."""
    if not (tmp_path / ".git").exists():
        assert run(["git", "init", "-q"], tmp_path, env).code == 0
    return run(["flowwarden", *args], tmp_path, env)


@pytest.mark.parametrize("name, allowed", [
    ("feature/login-12", True),
    ("feature/login-\u0661\u0662", False),  # Arabic-Indic digits: Unicode \d, not RE2's
])
def test_backslash_d_matches_ascii_digits_only(tmp_path: Path, env: dict[str, str], name: str,
                                               allowed: bool) -> None:
    (tmp_path / ".flowwarden.yaml").write_text(DIGITS, encoding="utf-8")
    result = fw(tmp_path, env, "check", "--branch", name)
    assert result.code == (0 if allowed else 1), result.text
    if not allowed:
        assert "branch-name" in result.out and "matches no branch kind" in result.out


def test_validate_warns_where_a_pattern_uses_an_ascii_only_escape(
        tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / ".flowwarden.yaml").write_text(DIGITS, encoding="utf-8")
    result = fw(tmp_path, env, "policy", "validate")
    assert result.code == 0, result.text
    assert "warning: .flowwarden.yaml:4:14: branches.feature.pattern: kind 'feature': \\d " \
        "in its pattern match ASCII only" in result.out
    assert "1 warning(s)" in result.out


def test_the_preset_draws_no_such_warning(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / ".flowwarden.yaml").write_text("extends: gitflow-ml\n")
    result = fw(tmp_path, env, "policy", "validate")
    assert result.code == 0 and "warning" not in result.out, result.text
