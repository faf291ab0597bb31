"""Untrusted policies and branch names are parsed in bounded time and memory: alias bombs,
deep nesting and backtracking patterns are policy errors with file:line:col, never a crash."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from ci.cikit import Server
from fwkit import Repo

from .lawkit import alias_bomb, bounded, push, refused

LOCATED = re.compile(r"\.flowwarden\.yaml:\d+:\d+")


def validate(repo: Repo, text: str) -> tuple[int, str]:
    repo.write(".flowwarden.yaml", text)
    result = bounded([sys.executable, "-m", "flowwarden", "policy", "validate"], repo.path,
                     repo.env)
    return result.code, result.text


@pytest.mark.parametrize("text, words", [
    (alias_bomb(), ("aliases", "expanded")),
    ("extends: gitflow-ml\nx: " + "[" * 20_000 + "]" * 20_000 + "\n", ("nested deeper",)),
    ("extends: gitflow-ml\nx: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n",
     ("nested deeper",)),
    ("extends: gitflow-ml\nx: &a {<<: *a}\n", ("loop",)),
    ("extends: gitflow-ml\nx: " + "9" * 5000 + "\n", ("invalid value",)),
], ids=["alias-bomb", "deep-flow-list", "deep-flow-map", "merge-loop", "huge-int"])
def test_a_hostile_policy_is_a_located_policy_error(repo: Repo, text: str,
                                                     words: tuple[str, ...]) -> None:
    code, out = validate(repo, text)
    assert code == 2, out
    assert LOCATED.search(out), out
    for word in words:
        assert word in out, out
    assert "Traceback" not in out and "MemoryError" not in out


def test_an_alias_bomb_in_the_judging_policy_is_a_policy_error(server: Server) -> None:
    """The bomb reached develop before the hook was installed; every push to develop is
    refused with a policy error that names the file, never a MemoryError."""
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dev.write(".flowwarden.yaml", alias_bomb())
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "Policy with a bomb", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    server.install_pre_receive()
    dev.commit_file("train.py", "lr = 0.1\n", "Tune", "--no-verify")
    result = push(dev, "develop")
    refused(result, ".flowwarden.yaml:", "aliases")
    assert "MemoryError" not in result.text


@pytest.mark.parametrize("pattern, words", [
    ("(feature/)?(?=a)a+", ("backtracking", "lookaround")),
    ("(feature/)(a)\\1", ("backtracking", "backreferences")),
    ("feature/[a-z", ("invalid regular expression",)),
], ids=["lookahead", "backreference", "unbalanced"])
def test_a_pattern_re2_refuses_is_a_policy_error_with_its_position(
        repo: Repo, pattern: str, words: tuple[str, ...]) -> None:
    code, out = validate(repo, "extends: gitflow-ml\nbranches:\n  feature:\n"
                               f"    pattern: '{pattern}'\n")
    assert code == 2, out
    assert ".flowwarden.yaml:4:" in out, out
    for word in words:
        assert word in out, out


def test_a_backtracking_pattern_runs_in_linear_time_on_a_pushers_name(
        repo: Repo, tmp_path: Path) -> None:
    """`(a|a)+c` took 11 s at 25 characters with Python's re; RE2 answers at once, so a
    name of 60 characters (2**60 backtracking steps) is judged within the timeout."""
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\nbranches:\n  feature:\n"
                                   "    pattern: '(feature/)?(a|a)+c'\n")
    repo.git("add", ".flowwarden.yaml")
    repo.git("commit", "-qm", "Policy", "--no-verify")
    result = bounded([sys.executable, "-m", "flowwarden", "check", "--branch", "a" * 60],
                     repo.path, repo.env, timeout=20)
    assert result.code == 1, result.text
    assert "branch-name" in result.text, result.text


def test_an_impossible_expiry_date_is_a_located_policy_error(repo: Repo) -> None:
    code, out = validate(repo, "extends: gitflow-ml\nrules:\n  protected-history: "
                               "{waivable: true}\nwaivers:\n  - rule: protected-history\n"
                               "    reason: import\n    expires: \"2027-13-45\"\n")
    assert code == 2 and ".flowwarden.yaml:7:" in out, out


@pytest.mark.parametrize("garbage", ["[]", "{\"deps\": 1}", "not json", "{\"deps\": {}, "
                                     "\"document\": {\"branches\": 5}}"])
def test_a_corrupt_policy_cache_heals_itself(repo: Repo, garbage: str) -> None:
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\n")
    assert repo.fw("check", "--branch", "feature/x").code == 0
    entries = list((repo.path / ".git" / "flowwarden").glob("policy-*.json"))
    assert entries
    for entry in entries:
        entry.write_text(garbage)
    result = repo.fw("check", "--branch", "feature/x")
    assert result.code == 0, result.text
    assert repo.fw("check", "--branch", "feature/x").code == 0


REFUSED_BY_RE2 = ["feature/(?=x).*", "feature/(?!x).*", "(?<=a)b", "(?<!a)b", "(a)\\1",
                  "(?P<n>a)(?P=n)", "a{1001}"]
ACCEPTED = ["feature/[a-z0-9][a-z0-9._-]*", "(?i)main|master", "release/(?P<v>[0-9.]+)",
            "hotfix/\\w+", "(feature/)?(a|a)+c", "x{2,1000}"]


@pytest.mark.parametrize("pattern", REFUSED_BY_RE2)
def test_re2_refuses_lookaround_backreferences_and_huge_counts(pattern: str) -> None:
    """The syntax RE2 refuses, each a pattern error (a policy error once placed in a file)."""
    from flowwarden.policy.patterns import PatternError, compile_pattern

    with pytest.raises(PatternError, match="backtracking"):
        compile_pattern(pattern)


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_re2_keeps_pythons_fullmatch_for_the_patterns_policies_use(pattern: str) -> None:
    import re

    from flowwarden.policy.patterns import compile_pattern

    compiled = compile_pattern(pattern)
    for name in ("feature/x", "main", "MASTER", "release/1.2", "hotfix/a_b", "aac", "xx",
                 "feature/x\n", "feature/"):
        assert (compiled.fullmatch(name) is None) == (re.fullmatch(pattern, name) is None), name
