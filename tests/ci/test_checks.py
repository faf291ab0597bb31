"""Tests before merge: the policy's check commands, streamed, timed, failing as violations
of tests-before-merge through the engine, so skips and waivers apply to them."""
from __future__ import annotations

import io
import sys
from typing import Any

import yaml

from flowwarden.adapters.git import GitRepo
from flowwarden.core.records import MergeAttempt, Outcome, Severity
from flowwarden.core.stages import Stage
from flowwarden.engine.evaluate import evaluate
from flowwarden.policy.model import Policy
from flowwarden.rules.base import Context
from fwkit import PROJECT, Repo

PY = sys.executable


def policy_with(checks: list[dict[str, Any]], **extra: Any) -> Policy:
    document = yaml.safe_load((PROJECT / "policies" / "gitflow-ml.yaml").read_text())
    return Policy.from_document({**document, **extra, "checks": checks}, "test policy")


def merge_into(repo: Repo, target: str, checks: list[dict[str, Any]], out: io.StringIO,
               env: dict[str, str] | None = None, stage: Stage = Stage.PRE_MERGE_COMMIT,
               **extra: Any) -> Outcome:
    """Judge a merge of feature/x into `target` as the hook (or CI) would."""
    ctx = Context(policy_with(checks, **extra), GitRepo.discover(repo.path), stage,
                  {**repo.env, **(env or {})}, out)
    return evaluate(MergeAttempt("feature/x", target), ctx)


UNIT = {"name": "unit tests", "before_merge_into": ["develop", "main"],
        "run": [PY, "-c", "print('3 passed')"]}
BROKEN = {"name": "smoke", "before_merge_into": ["develop"],
          "run": [PY, "-c", "import sys; print('1 failed'); sys.exit(4)"]}


def test_checks_are_chosen_by_branch_name_or_kind() -> None:
    policy = policy_with([UNIT, {**BROKEN, "before_merge_into": ["main"]},
                          {**UNIT, "name": "release only", "before_merge_into": ["release"]}])
    assert [c.name for c in policy.checks_for("main")] == ["unit tests", "smoke"]
    assert [c.name for c in policy.checks_for("develop")] == ["unit tests"]
    assert [c.name for c in policy.checks_for("release/1.2.0")] == ["release only"]
    assert policy.checks_for("feature/x") == ()


def test_a_passing_check_streams_its_output_and_duration(repo: Repo) -> None:
    out = io.StringIO()
    assert merge_into(repo, "develop", [UNIT], out).violations == ()
    text = out.getvalue()
    assert "check 'unit tests' before merging into develop" in text
    assert "3 passed" in text
    assert "check 'unit tests' passed in " in text and " s\n" in text


def test_a_failing_check_is_a_tests_before_merge_violation_with_the_fix(repo: Repo) -> None:
    out = io.StringIO()
    outcome = merge_into(repo, "develop", [UNIT, BROKEN], out)
    assert "1 failed" in out.getvalue() and "check 'smoke' FAILED" in out.getvalue()
    (v,) = outcome.violations
    assert v.rule == "tests-before-merge" and v.severity is Severity.ERROR
    assert "exited 4" in v.message and "before merging into develop" in v.message
    assert v.fix is not None and v.fix.startswith(PY)


def test_a_check_runs_in_the_work_tree_without_the_hook_index(repo: Repo) -> None:
    probe = {"name": "where", "before_merge_into": ["develop"],
             "run": [PY, "-c", "import os; print(os.getcwd()); "
                               "print('index', os.environ.get('GIT_INDEX_FILE'))"]}
    out = io.StringIO()
    outcome = merge_into(repo, "develop", [probe], out, {"GIT_INDEX_FILE": "/tmp/x"})
    assert outcome.violations == ()
    assert str(repo.path) in out.getvalue() and "index None" in out.getvalue()


def test_a_missing_command_and_a_timeout_fail_the_check(repo: Repo) -> None:
    missing = {"name": "lint", "before_merge_into": ["develop"], "run": ["no-such-tool-xyz"]}
    slow = {"name": "slow", "before_merge_into": ["develop"], "timeout": 0.5,
            "run": [PY, "-c", "import time; time.sleep(30)"]}
    outcome = merge_into(repo, "develop", [missing, slow], io.StringIO())
    assert [v.subject for v in outcome.violations] == ["lint", "slow"]
    assert "could not start" in outcome.violations[0].message
    assert "timed out after 0.5 s" in outcome.violations[1].message


def test_a_timeout_kills_the_children_of_the_check_too(repo: Repo) -> None:
    """A test runner's workers must not outlive it: they would hold the output open."""
    spawner = {"name": "workers", "before_merge_into": ["develop"], "timeout": 1,
               "run": [PY, "-c", "import subprocess, sys, time; subprocess.Popen([sys.executable,"
                                 " '-c', 'import time; time.sleep(60)']); time.sleep(60)"]}
    outcome = merge_into(repo, "develop", [spawner], io.StringIO())
    (v,) = outcome.violations
    assert "timed out after 1 s" in v.message and v.rule == "tests-before-merge"


def test_flowwarden_skip_stops_the_commands_and_says_so(repo: Repo) -> None:
    for skip in ("tests-before-merge", "all"):
        out = io.StringIO()
        outcome = merge_into(repo, "develop", [BROKEN], out, {"FLOWWARDEN_SKIP": skip})
        assert not outcome.blocking, outcome
        assert "1 failed" not in out.getvalue(), "the skipped check ran"
        assert any("check 'smoke'" in n and "not run" in n and "FLOWWARDEN_SKIP" in n
                   for n in outcome.notes), outcome.notes


def test_in_ci_flowwarden_skip_counts_only_when_the_policy_allows_it(repo: Repo) -> None:
    skip = {"FLOWWARDEN_SKIP": "tests-before-merge"}
    refused = merge_into(repo, "develop", [BROKEN], io.StringIO(), skip, Stage.CI)
    assert [v.rule for v in refused.blocking] == ["tests-before-merge"]
    allowed = merge_into(repo, "develop", [BROKEN], io.StringIO(), skip, Stage.CI,
                         rules={"tests-before-merge": {"skippable": True}})
    assert not allowed.blocking and allowed.violations == ()


def test_a_policy_waiver_covers_a_failing_check(repo: Repo) -> None:
    outcome = merge_into(repo, "develop", [BROKEN], io.StringIO(),
                         rules={"tests-before-merge": {"waivable": True}},
                         waivers=[{"rule": "tests-before-merge", "subject": "smoke",
                                   "reason": "flaky smoke test, see issue 12"}])
    (v,) = outcome.violations
    assert v.waived_by is not None and "flaky smoke test" in v.waived_by
    assert not outcome.blocking


def test_checks_do_not_run_for_a_merge_refused_already(repo: Repo) -> None:
    out = io.StringIO()
    outcome = merge_into(repo, "main", [UNIT], out)
    assert [v.rule for v in outcome.blocking] == ["merge-target"]
    assert "3 passed" not in out.getvalue()
    assert any("check 'unit tests'" in n and "refused already" in n for n in outcome.notes)
