"""branch-name: every branch name matches one of the policy's branch kinds."""
from __future__ import annotations

import pytest
from rulekit import ZERO_SHA, assert_one, check, push

from flowwarden.core.records import BranchCreated, BranchQuery, CommitAttempt
from flowwarden.core.stages import Stage
from fwkit import Repo

ID = "branch-name"


def test_commit_on_a_branch_no_kind_matches(repo: Repo) -> None:
    event = CommitAttempt("Feature_Login", repo.sha(), ())
    found = check(ID, event, repo, Stage.PRE_COMMIT)
    violation = assert_one(found, ID, "Feature_Login", "matches no branch kind", "feature")
    assert violation.fix and violation.fix.startswith("git branch -m Feature_Login ")


@pytest.mark.parametrize("name", ["main", "develop", "feature/login",
                                  "experiment/wide", "release/1.2.0", "hotfix/crash"])
def test_names_of_every_kind_pass(repo: Repo, name: str) -> None:
    assert check(ID, CommitAttempt(name, repo.sha(), ()), repo, Stage.PRE_COMMIT) == []


def test_new_branch_at_post_checkout_and_a_query(repo: Repo) -> None:
    created = BranchCreated("badname", repo.sha(), "main")
    assert_one(check(ID, created, repo, Stage.POST_CHECKOUT), ID, "badname")
    assert check(ID, BranchQuery("release/1.2.0"), repo, Stage.CHECK) == []


def test_push_judges_created_and_updated_refs_but_not_deletions(repo: Repo) -> None:
    tip = repo.sha()
    event = push(("Bad_Name", ZERO_SHA, tip), ("feature/ok", ZERO_SHA, tip),
                 ("Old_Bad", tip, ZERO_SHA))
    assert_one(check(ID, event, repo, Stage.PRE_RECEIVE), ID, "Bad_Name", "Bad_Name")
