"""Tests before merge: the policy's check commands, streamed, timed, failing as violations."""
from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import yaml

from flowwarden.adapters.git import GitRepo
from flowwarden.core.records import Severity
from flowwarden.core.stages import Stage
from flowwarden.entry.checks import checks_for, run_before_merge
from flowwarden.policy.model import Policy
from flowwarden.rules.base import Context
from fwkit import PROJECT, Repo

PY = sys.executable


def policy_with(checks: list[dict[str, Any]]) -> Policy:
    document = yaml.safe_load((PROJECT / "policies" / "gitflow-ml.yaml").read_text())
    return Policy.from_document({**document, "checks": checks}, "test policy")


def context(repo: Repo, checks: list[dict[str, Any]]) -> Context:
    return Context(policy_with(checks), GitRepo.discover(repo.path), Stage.PRE_MERGE_COMMIT,
                   repo.env)


UNIT = {"name": "unit tests", "before_merge_into": ["develop", "main"],
        "run": [PY, "-c", "print('3 passed')"]}
BROKEN = {"name": "smoke", "before_merge_into": ["main"],
          "run": [PY, "-c", "import sys; print('1 failed'); sys.exit(4)"]}


def test_checks_are_chosen_by_branch_name_or_kind() -> None:
    policy = policy_with([UNIT, BROKEN, {**UNIT, "name": "release only",
                                         "before_merge_into": ["release"]}])
    assert [c.name for c in checks_for(policy, "main")] == ["unit tests", "smoke"]
    assert [c.name for c in checks_for(policy, "develop")] == ["unit tests"]
    assert [c.name for c in checks_for(policy, "release/1.2.0")] == ["release only"]
    assert checks_for(policy, "feature/x") == ()


def test_a_passing_check_streams_its_output_and_duration(repo: Repo) -> None:
    out = io.StringIO()
    assert run_before_merge(context(repo, [UNIT]), "develop", out) == ()
    text = out.getvalue()
    assert "check 'unit tests' before merging into develop" in text
    assert "3 passed" in text
    assert "check 'unit tests' passed in " in text and " s\n" in text


def test_a_failing_check_is_a_tests_before_merge_violation_with_the_fix(repo: Repo) -> None:
    out = io.StringIO()
    found = run_before_merge(context(repo, [UNIT, BROKEN]), "main", out)
    assert "1 failed" in out.getvalue() and "check 'smoke' FAILED" in out.getvalue()
    assert len(found) == 1
    (v,) = found
    assert v.rule == "tests-before-merge" and v.severity is Severity.ERROR
    assert "exited 4" in v.message and "before merging into main" in v.message
    assert v.fix is not None and v.fix.startswith(PY)


def test_a_check_runs_in_the_work_tree_without_the_hook_index(repo: Repo) -> None:
    probe = {"name": "where", "before_merge_into": ["main"],
             "run": [PY, "-c", "import os; print(os.getcwd()); "
                               "print('index', os.environ.get('GIT_INDEX_FILE'))"]}
    ctx = context(repo, [probe])
    ctx = Context(ctx.policy, ctx.repo, ctx.stage, {**repo.env, "GIT_INDEX_FILE": "/tmp/x"})
    out = io.StringIO()
    assert run_before_merge(ctx, "main", out) == ()
    assert str(repo.path) in out.getvalue() and "index None" in out.getvalue()


def test_a_missing_command_and_a_timeout_fail_the_check(repo: Repo, tmp_path: Path) -> None:
    missing = {"name": "lint", "before_merge_into": ["main"], "run": ["no-such-tool-xyz", "."]}
    slow = {"name": "slow", "before_merge_into": ["main"], "timeout": 0.5,
            "run": [PY, "-c", "import time; time.sleep(30)"]}
    found = run_before_merge(context(repo, [missing, slow]), "main", io.StringIO())
    assert [v.subject for v in found] == ["lint", "slow"]
    assert "could not start" in found[0].message
    assert "timed out after 0.5 s" in found[1].message
