"""Bad policy files: exit 2, the file with line:col, what was expected, never a traceback;
both from `flowwarden policy validate` and from a hook, which must fail closed."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from corekit import TRACEBACK, quiet

from fwkit import Repo


@dataclass(frozen=True)
class Bad:
    text: str
    line: int | tuple[int, ...]  # a tuple: any of these lines is an honest answer
    col: int | None  # None: the column is not pinned by the spec
    words: tuple[str, ...]
    file: str = ".flowwarden.yaml"


BAD = {
    "yaml-syntax": Bad("extends: gitflow-ml\nbranches:\n  feature: {pattern: \"feature/.*\"\n",
                       (3, 4), None, ()),
    "yaml-tab-indent": Bad("branches:\n\tfeature:\n", 2, None, ()),
    "misspelt-top-key": Bad("extends: gitflow-ml\nbranchs:\n  feature: {}\n", 2, 1,
                            ("did you mean", "branches")),
    "misspelt-kind-key": Bad("extends: gitflow-ml\nbranches:\n  feature:\n    patern: \"f/.*\"\n",
                             4, 5, ("did you mean", "pattern")),
    "wrong-type": Bad("extends: gitflow-ml\nbranches:\n  main:\n    protected: \"yes\"\n",
                      4, None, ("protected", "boolean")),
    "bad-severity": Bad("extends: gitflow-ml\nrules:\n  merge-target: {severity: fatal}\n",
                        3, None, ("severity", "error")),
    "bad-regex": Bad("extends: gitflow-ml\nbranches:\n  feature:\n    pattern: \"feature/[a-z\"\n",
                     4, None, ("pattern",)),
    "unknown-preset": Bad("extends: gitflow-mll\n", 1, None, ("gitflow-mll",)),
    "unknown-kind-in-from": Bad("extends: gitflow-ml\nbranches:\n  feature:\n"
                                "    from: [devlop]\n", 4, None, ("devlop", "develop")),
    "unknown-kind-in-into": Bad("extends: gitflow-ml\nbranches:\n  feature:\n"
                                "    into: [develop, mian]\n", 4, None, ("mian",)),
    "unknown-rule-id": Bad("extends: gitflow-ml\nrules:\n  merge-targt: {severity: warning}\n",
                           3, 3, ("merge-targt", "did you mean", "merge-target")),
    "extends-escapes-repo": Bad("extends: ../outside.yaml\n", 1, None, ("outside.yaml",)),
    "not-a-mapping": Bad("- just\n- a list\n", 1, None, ()),
    "unknown-kind-in-runs": Bad("extends: gitflow-ml\nruns:\n  branches: [experment]\n", 3, 14,
                                ("experment", "did you mean", "experiment")),
    "no-branch-kinds": Bad("rules: {}\n", 1, 1, ("no branch kinds", "extends")),
}


def write_bad(repo: Repo, case: str) -> Bad:
    bad = BAD[case]
    repo.write(".flowwarden.yaml", bad.text)
    if case == "extends-escapes-repo":
        (repo.path.parent / "outside.yaml").write_text("branches: {}\n")
    return bad


def assert_policy_error(text: str, code: int, bad: Bad) -> None:
    assert code == 2, f"expected exit 2, got {code}:\n{text}"
    assert TRACEBACK not in text, text
    locations = re.findall(rf"{re.escape(bad.file)}:(\d+):(\d+)", text)
    assert locations, f"no {bad.file}:line:col in:\n{text}"
    lines = bad.line if isinstance(bad.line, tuple) else (bad.line,)
    assert any(int(line) in lines and (bad.col is None or int(col) == bad.col)
               for line, col in locations), f"expected line {bad.line} col {bad.col}:\n{text}"
    for word in bad.words:
        assert word.lower() in text.lower(), f"{word!r} missing:\n{text}"


@pytest.mark.parametrize("case", sorted(BAD))
def test_policy_validate_reports_the_location(repo: Repo, case: str) -> None:
    bad = write_bad(repo, case)
    result = repo.fw("policy", "validate")
    assert_policy_error(result.text, result.code, bad)


@pytest.mark.parametrize("case", sorted(BAD))
def test_hook_fails_closed_on_a_bad_policy(repo: Repo, case: str) -> None:
    bad = write_bad(repo, case)
    quiet(repo, "switch", "-q", "-c", "feature/x", "develop")
    result = repo.fw("hook", "pre-commit")
    assert_policy_error(result.text, result.code, bad)


def test_commit_through_the_shim_is_refused_on_a_bad_policy(shim_repo: Repo) -> None:
    quiet(shim_repo, "switch", "-q", "-c", "feature/x", "develop")
    bad = write_bad(shim_repo, "misspelt-kind-key")
    before = shim_repo.sha()
    result = shim_repo.commit_file("a.txt")
    assert result.code != 0
    assert f"{bad.file}:{bad.line}:" in result.text and TRACEBACK not in result.text
    assert shim_repo.sha() == before


def test_extends_cycle_is_an_error(repo: Repo) -> None:
    repo.write(".flowwarden.yaml", "extends: policy/a.yaml\n")
    repo.write("policy/a.yaml", "extends: b.yaml\n")
    repo.write("policy/b.yaml", "extends: a.yaml\n")
    result = repo.fw("policy", "validate")
    assert result.code == 2, result.text
    assert TRACEBACK not in result.text
    assert "cycle" in result.text.lower()
    assert re.search(r"[ab]\.yaml:1:\d+", result.text), result.text


def test_extends_a_local_file_works(repo: Repo) -> None:
    repo.write(".flowwarden.yaml", "extends: policy/team.yaml\nrules:\n"
                                   "  branch-origin: {severity: warning}\n")
    repo.write("policy/team.yaml", "extends: gitflow-ml\nbranches:\n  bugfix:\n"
                                   "    pattern: \"bugfix/.+\"\n    from: [develop]\n"
                                   "    into: [develop]\n")
    result = repo.fw("policy", "validate")
    assert result.code == 0, result.text
    assert repo.fw("check", "--branch", "bugfix/a").code == 0


def test_error_in_an_extended_file_names_that_file(repo: Repo) -> None:
    repo.write(".flowwarden.yaml", "extends: policy/team.yaml\n")
    repo.write("policy/team.yaml", "extends: gitflow-ml\nbranches:\n  feature:\n"
                                   "    protectd: true\n")
    result = repo.fw("policy", "validate")
    assert_policy_error(result.text, result.code,
                        Bad("", 4, 5, ("protected",), file="team.yaml"))


def test_fixed_policy_is_accepted_again(repo: Repo) -> None:
    """The validated-policy cache is keyed by content: fixing the file must take effect."""
    write_bad(repo, "misspelt-kind-key")
    assert repo.fw("policy", "validate").code == 2
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\n")
    assert repo.fw("policy", "validate").code == 0
    write_bad(repo, "misspelt-kind-key")
    assert repo.fw("policy", "validate").code == 2


def test_recursive_yaml_alias_is_a_policy_error(repo: Repo) -> None:
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\ndata: &loop [*loop]\n")
    result = repo.fw("policy", "validate")
    assert result.code == 2, result.text
    assert ".flowwarden.yaml:2:" in result.text and TRACEBACK not in result.text


def test_anchors_and_aliases_are_accepted(repo: Repo) -> None:
    """Anchors, aliases and comments are YAML a team may write to keep kinds short."""
    repo.write(".flowwarden.yaml", (
        "# team policy\n"
        "extends: gitflow-ml\n"
        "branches:\n"
        "  bugfix:\n"
        "    pattern: \"bugfix/[a-z0-9._-]+\"\n"
        "    from: &dev [develop]\n"
        "    into: *dev\n"))
    result = repo.fw("policy", "validate")
    assert result.code == 0, result.text
    assert repo.fw("check", "--merge", "bugfix/x", "--into", "develop").code == 0
    assert repo.fw("check", "--merge", "bugfix/x", "--into", "main").code == 1


def test_merge_keys_are_accepted(repo: Repo) -> None:
    repo.write(".flowwarden.yaml", (
        "extends: gitflow-ml\n"
        "branches:\n"
        "  bugfix: &short\n"
        "    pattern: \"bugfix/[a-z0-9._-]+\"\n"
        "    from: [develop]\n"
        "    into: [develop]\n"
        "  chore:\n"
        "    <<: *short\n"
        "    pattern: \"chore/[a-z0-9._-]+\"\n"))
    result = repo.fw("policy", "validate")
    assert result.code == 0, result.text
    assert repo.fw("check", "--merge", "chore/deps", "--into", "develop").code == 0
    assert repo.fw("check", "--merge", "chore/deps", "--into", "main").code == 1
