"""Bad policy files: exit 2, the file with line:col, what was expected, never a traceback;
both from `flowwarden policy validate` and from a hook, which must fail closed."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from corekit import TRACEBACK, add_bare_remote, commit_quiet, quiet

from fwkit import Repo


@dataclass(frozen=True)
class Bad:
    text: str
    line: int | tuple[int, ...]  # a tuple: any of these lines is an honest answer
    col: int | None  # None: the column is not pinned by the spec
    words: tuple[str, ...]
    file: str = ".flowwarden.yaml"


WAIVABLE = ("extends: gitflow-ml\nrules:\n  protected-history: {waivable: true}\nwaivers:\n"
            "  - rule: protected-history\n    reason: legacy import\n")

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
    # Values the schema used to accept and Python later rejected or misread.
    "waiver-impossible-day": Bad(WAIVABLE + "    expires: \"2027-02-30\"\n", 7, 14,
                                 ("expires", "YYYY-MM-DD", "2027-02-30")),
    "waiver-impossible-month": Bad(WAIVABLE + "    expires: 2027-13-45\n", 7, 14,
                                   ("expires", "YYYY-MM-DD", "2027-13-45")),
    "waiver-date-with-newline": Bad(WAIVABLE + "    expires: \"2027-01-31\\n\"\n", 7, 14,
                                    ("expires", "YYYY-MM-DD")),
    "waiver-unknown-rule": Bad("extends: gitflow-ml\nwaivers:\n"
                               "  - {rule: protected-histroy, reason: r}\n", 3, 12,
                               ("protected-histroy", "did you mean", "protected-history")),
    "check-unknown-target": Bad("extends: gitflow-ml\nchecks:\n  - name: unit\n"
                                "    run: [pytest]\n    before_merge_into: [devlop]\n",
                                5, 25, ("devlop", "did you mean", "develop")),
    "check-infinite-timeout": Bad("extends: gitflow-ml\nchecks:\n  - name: unit\n"
                                  "    run: [pytest]\n    before_merge_into: [develop]\n"
                                  "    timeout: .inf\n", 6, 14, ("timeout", "seconds")),
    "check-nan-timeout": Bad("extends: gitflow-ml\nchecks:\n  - name: unit\n"
                             "    run: [pytest]\n    before_merge_into: [develop]\n"
                             "    timeout: .nan\n", 6, 14, ("timeout", "seconds")),
    "kind-name-with-newline": Bad("extends: gitflow-ml\nbranches:\n  \"bugfix\\n\":\n"
                                  "    pattern: \"bugfix/.+\"\n", 3, None, ("bugfix",)),
    "severity-off-unquoted": Bad("extends: gitflow-ml\nrules:\n  merge-target: {severity: off}\n",
                                 3, None, ("severity", "quote", "\"off\"")),
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


def test_a_push_under_an_impossible_waiver_date_is_a_policy_error(repo: Repo,
                                                                  tmp_path: Path) -> None:
    """The date used to be read only when a violation met the waiver: exit 3, a traceback."""
    remote = add_bare_remote(repo, tmp_path / "origin.git")
    old = repo.sha("develop")
    quiet(repo, "switch", "-q", "develop")
    new = commit_quiet(repo, ".flowwarden.yaml", WAIVABLE + "    expires: \"2027-02-30\"\n")
    result = repo.fw("hook", "pre-push", "origin", remote.path.as_uri(),
                     stdin=f"refs/heads/develop {new} refs/heads/develop {old}\n")
    assert_policy_error(result.text, result.code,
                        Bad("", 7, 14, ("expires", "YYYY-MM-DD", "2027-02-30")))


def cache_files(repo: Repo) -> list[Path]:
    return sorted((repo.path / ".git" / "flowwarden").glob("policy-*.json"))


@pytest.mark.parametrize("garbage", ["[]", "not json {", '{"deps": [], "document": 1}',
                                     "{}", '{"deps": {}, "document": {"branches": []}}'])
def test_a_cache_file_that_does_not_build_heals(repo: Repo, garbage: str) -> None:
    """A hook reads the validated policy from the cache; a broken entry is a miss and is
    rewritten, never a traceback and never a pass."""
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\nrules:\n"
                                   "  branch-name: {severity: warning}\n")
    quiet(repo, "switch", "-q", "-c", "wip", "develop")
    assert repo.fw("hook", "pre-commit").code == 0
    (entry,) = cache_files(repo)
    good = entry.read_text()
    entry.write_text(garbage)
    result = repo.fw("hook", "pre-commit")
    assert result.code == 0 and "branch-name" in result.text, result.text
    assert TRACEBACK not in result.text
    assert entry.read_text() == good


def test_a_cached_document_with_a_bad_value_heals(repo: Repo) -> None:
    """A cache entry whose deps match but whose document no longer builds is rebuilt from
    the files, which are valid."""
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\n")
    quiet(repo, "switch", "-q", "develop")
    assert repo.fw("hook", "pre-commit").code == 1
    (entry,) = cache_files(repo)
    good = entry.read_text()
    data = json.loads(good)
    data["document"]["waivers"] = [{"rule": "protected-history", "reason": "r",
                                    "expires": "2027-02-30"}]
    entry.write_text(json.dumps(data))
    result = repo.fw("hook", "pre-commit")
    assert result.code == 1 and "protected-branch" in result.text, result.text
    assert TRACEBACK not in result.text
    assert json.loads(entry.read_text()) == json.loads(good)
