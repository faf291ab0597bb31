"""Helpers for the data-rule tests: run dvc, run the data rules on real repositories."""
from __future__ import annotations

import subprocess
from collections.abc import Mapping
from typing import Any

from flowwarden.adapters.git import GitRepo
from flowwarden.core.records import CommitAttempt, Push, RefUpdate, Violation
from flowwarden.core.stages import Stage
from flowwarden.policy.model import Policy
from flowwarden.rules import RULES as ALL_RULES
from flowwarden.rules.base import Context
from fwkit import Repo

RULES = tuple(r for r in ALL_RULES if r.id.startswith("dvc-"))


def dvc(repo: Repo, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["dvc", *args], cwd=repo.path, env=repo.env, capture_output=True,
                          text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout}{proc.stderr}")
    return proc.stdout + proc.stderr


def context(repo: Repo, stage: Stage, document: Mapping[str, Any] | None = None) -> Context:
    policy = Policy.from_document({"data": {}, **(document or {})}, "test")
    return Context(policy=policy, repo=GitRepo.discover(repo.path, env=repo.env), stage=stage,
                   env=repo.env)


def check_commit(repo: Repo, document: Mapping[str, Any] | None = None) -> list[Violation]:
    """Run every data rule on what is staged now, as the pre-commit hook would."""
    ctx = context(repo, Stage.PRE_COMMIT, document)
    head = ctx.repo.head()
    event = CommitAttempt(ctx.repo.current_branch(), head, ctx.repo.staged_changes(head))
    return [v for rule in RULES if rule.applies(event, ctx.stage)
            for v in rule.check(event, ctx)]


def check_push(repo: Repo, branch: str = "main", remote: str = "origin",
               document: Mapping[str, Any] | None = None,
               stage: Stage = Stage.PRE_PUSH) -> list[Violation]:
    """Run every data rule on a push of `branch` to `remote`, as the pre-push hook would."""
    ctx = context(repo, stage, document)
    old = ctx.repo.remote_branches(remote).get(branch, "0" * 40)
    update = RefUpdate(f"refs/heads/{branch}", old, repo.sha(branch), f"refs/heads/{branch}")
    event = Push((update,), remote=remote, url=None)
    return [v for rule in RULES if rule.applies(event, ctx.stage)
            for v in rule.check(event, ctx)]


def ids(violations: list[Violation]) -> list[str]:
    return [v.rule for v in violations]


def only(violations: list[Violation], rule: str) -> Violation:
    found = [v for v in violations if v.rule == rule]
    assert len(found) == 1, f"expected one {rule}, got {violations}"
    return found[0]
