"""`flowwarden test CASES.yaml`: a policy's unit tests, judged by the real engine."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fwkit import PROJECT, Result, run

PRESET_CASES = PROJECT / "policies" / "gitflow-ml.cases.yaml"
BRIEF_CASES = """\
- check: {merge: feature/x, into: main}
  expect: {refused: merge-target}
- check: {branch: feature/ok}
  expect: {allowed: true}
"""


def fw(tmp_path: Path, env: dict[str, str], *args: str) -> Result:
    return run(["flowwarden", *args], tmp_path, env)


def test_the_issue_s_case_file_passes_as_written(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "cases.yaml").write_text(BRIEF_CASES)
    result = fw(tmp_path, env, "test", "cases.yaml")
    assert result.code == 0, result.text
    assert "PASSED cases.yaml:1 merge feature/x into main (refused by merge-target)" in result.out
    assert "PASSED cases.yaml:3 branch feature/ok (allowed)" in result.out
    assert "2 passed" in result.out


def test_the_preset_passes_its_own_cases(tmp_path: Path, env: dict[str, str]) -> None:
    result = fw(tmp_path, env, "test", str(PRESET_CASES), "--format", "json")
    assert result.code == 0, result.text
    report = json.loads(result.out)
    assert report["failed"] == 0 and report["passed"] >= 20
    operations = {case["operation"] for case in report["cases"]}
    assert operations == {"branch", "merge", "commit", "push"}


BROKEN = """\
extends: gitflow-ml
branches:
  feature: {into: [develop, main]}
  develop: {protected: false}
"""


def test_a_broken_policy_fails_the_preset_cases_with_a_diff(
        tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN)
    result = fw(tmp_path, env, "test", str(PRESET_CASES), "--policy", "broken.yaml")
    assert result.code == 1, result.text
    lines = result.out.splitlines()
    failed = [line for line in lines if line.startswith("FAILED")]
    assert any("merge feature/x into main (allowed)" in line for line in failed)
    assert any("a commit straight onto develop (allowed)" in line for line in failed)
    start = lines.index(next(line for line in failed if "feature/x into main" in line))
    assert lines[start + 1:start + 3] == ["    - refused: [merge-target]", "    + refused: []"]
    assert "failed" in lines[-1] and "passed" in lines[-1]


def test_a_failing_case_shows_the_violations_it_got(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "cases.yaml").write_text(
        "- check: {branch: Login-Fix}\n  expect: {allowed: true}\n")
    result = fw(tmp_path, env, "test", "cases.yaml")
    assert result.code == 1
    assert "    - allowed: true\n    + allowed: false\n" in result.out
    assert "    | error: branch-name: Login-Fix matches no branch kind" in result.out


HISTORY_CASES = """\
- name: a hotfix merged into main, pushed with main
  history:
    - {branch: hotfix/crash, from: main}
    - {commit: h1, branch: hotfix/crash, files: {fix.py: 10}, message: "Fix the crash"}
    - {merge: hotfix/crash, into: main, as: m1}
  check:
    push: [{branch: main, old: root, new: m1}]
  expect: {allowed: true}
- name: a release tag merged into develop by hand
  history:
    - {commit: d1, branch: develop}
  check:
    push: {branch: develop, old: root, new: d1}
  expect: {refused: protected-history, says: "is not a merge"}
- check: {commit: {branch: main, message: "quick fix"}}
  expect: {refused: protected-branch}
"""


def test_histories_commits_and_pushes_are_built_for_real(
        tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "cases.yaml").write_text(HISTORY_CASES)
    result = fw(tmp_path, env, "test", "cases.yaml")
    assert result.code == 0, result.text
    assert "3 passed" in result.out


@pytest.mark.parametrize(("content", "where", "words"), [
    ("- check: {branch: x}\n", "cases.yaml:1:3", "needs `expect:`"),
    ("- check: {branch: x}\n  expect: {refused: merge-targt}\n", "cases.yaml:2:21",
     "did you mean 'merge-target'"),
    ("- check: {branch: x, into: main}\n  expect: {allowed: true}\n", "cases.yaml:1:22",
     "`into` goes with `merge`"),
    ("- check: {commit: {branch: f/x, files: {a.csv: lots}}}\n  expect: {allowed: true}\n",
     "cases.yaml:1:48", "expected a size"),
    ("- check: {commit: {branch: f/x, files: {../a: 1}}}\n  expect: {allowed: true}\n",
     "cases.yaml:1:41", "inside the repository"),
    ("- check: {branch: x}\n  expect: {allowed: yes please}\n", "cases.yaml:2:21",
     "expected true or false"),
    ("- check: {push: {branch: main}}\n  expect: {allowed: true}\n", "cases.yaml:1:17",
     "needs `new:`"),
    ("- check: {branch: x, stage: pre-push}\n  expect: {allowed: true}\n", "cases.yaml:1:29",
     "a branch is judged at check, ci"),
    ("check: {branch: x}\n", "cases.yaml:1:1", "expected a non-empty list"),
    ("- check: {branch: [x\n", "cases.yaml:2:1", "invalid YAML"),
    ("- check: {bogus: x}\n  expect: {allowed: true}\n", "cases.yaml:1:11", "unknown key 'bogus'"),
])
def test_a_malformed_case_file_is_an_error_with_its_place(
        tmp_path: Path, env: dict[str, str], content: str, where: str, words: str) -> None:
    (tmp_path / "cases.yaml").write_text(content)
    result = fw(tmp_path, env, "test", "cases.yaml")
    assert result.code == 2, result.text
    assert f"flowwarden: {where}:" in result.err
    assert words in result.err
    assert "Traceback" not in result.text and "internal error" not in result.text


def test_a_history_step_git_refuses_names_its_line(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "cases.yaml").write_text(
        "- history:\n    - {merge: feature/nowhere, into: develop}\n"
        "  check: {branch: develop}\n  expect: {allowed: true}\n")
    result = fw(tmp_path, env, "test", "cases.yaml")
    assert result.code == 2, result.text
    assert "cases.yaml:2: history step merge feature/nowhere" in result.err
    assert "neither a label nor a branch" in result.err


def test_a_missing_case_file_is_a_usage_error(tmp_path: Path, env: dict[str, str]) -> None:
    result = fw(tmp_path, env, "test", "nowhere.yaml")
    assert result.code == 2
    assert "nowhere.yaml: cannot read the case file" in result.err


def test_an_operation_git_refuses_is_a_case_file_error(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "cases.yaml").write_text(
        "- check: {commit: {branch: 'feature/a..b'}}\n  expect: {allowed: true}\n")
    result = fw(tmp_path, env, "test", "cases.yaml")
    assert result.code == 2, result.text
    assert "cases.yaml:1: commit on feature/a..b:" in result.err
    assert "internal error" not in result.err


def test_one_case_is_counted_in_the_singular(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "one.yaml").write_text("- check: {branch: feature/ok}\n  expect: {allowed: true}\n")
    result = fw(tmp_path, env, "test", "one.yaml")
    assert result.code == 0, result.text
    assert result.out.startswith("flowwarden test: 1 case from one.yaml against ")
