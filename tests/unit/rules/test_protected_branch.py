"""protected-branch: no direct (non-merge) commit on a protected branch."""
from __future__ import annotations

import pytest
from rulekit import assert_one, check

from flowwarden.core.records import CommitAttempt
from flowwarden.core.stages import Stage
from fwkit import Repo

ID = "protected-branch"


@pytest.mark.parametrize("name", ["main", "develop"])
def test_direct_commit_on_a_protected_branch(repo: Repo, name: str) -> None:
    found = check(ID, CommitAttempt(name, repo.sha(), ()), repo, Stage.PRE_COMMIT)
    violation = assert_one(found, ID, name, f"{name} is protected", "direct commits are not "
                           "allowed")
    assert violation.fix and violation.fix.startswith("git switch -c ")


def test_develop_points_to_a_feature_branch(repo: Repo) -> None:
    found = check(ID, CommitAttempt("develop", repo.sha(), ()), repo, Stage.PRE_COMMIT)
    assert "git switch -c feature/my-topic " in (assert_one(found, ID, "develop").fix or "")


def test_commit_on_a_feature_branch_passes(repo: Repo) -> None:
    assert check(ID, CommitAttempt("feature/x", repo.sha(), ()), repo, Stage.PRE_COMMIT) == []


def test_concluding_a_merge_and_the_first_commit_pass(repo: Repo) -> None:
    head = repo.sha()
    concluding = CommitAttempt("main", head, (), merge_head=head, merge_source="release/1.0.0")
    assert check(ID, concluding, repo, Stage.PRE_COMMIT) == []
    assert check(ID, CommitAttempt("main", None, ()), repo, Stage.PRE_COMMIT) == []
