"""branch-delete: protected branches are never deleted; release and hotfix branches only after
they reached every merge target."""
from __future__ import annotations

import pytest
from rulekit import ZERO_SHA, assert_one, branch, check, merge, push

from flowwarden.core.stages import Stage
from fwkit import Repo

ID = "branch-delete"


@pytest.mark.parametrize("name", ["main", "develop"])
def test_deleting_a_protected_branch_is_refused(repo: Repo, name: str) -> None:
    found = check(ID, push((name, repo.sha(name), ZERO_SHA)), repo, Stage.PRE_RECEIVE)
    assert_one(found, ID, name, f"{name} is protected", "may not be deleted")


def test_deleting_a_release_merged_only_into_main_is_refused(repo: Repo) -> None:
    tip = branch(repo, "release/1.0.0", "develop")
    merge(repo, "main", "release/1.0.0")
    found = check(ID, push(("release/1.0.0", tip, ZERO_SHA), remote="origin"), repo,
                  Stage.PRE_PUSH)
    violation = assert_one(found, ID, "release/1.0.0", "has not reached develop",
                           "main and develop")
    assert violation.fix == ("git fetch origin && git switch develop && "
                             "git merge --no-ff origin/release/1.0.0 && git push origin develop")


def test_deleting_an_unmerged_hotfix_names_both_targets(repo: Repo) -> None:
    tip = branch(repo, "hotfix/crash", "main")
    found = check(ID, push(("hotfix/crash", tip, ZERO_SHA)), repo, Stage.PRE_RECEIVE)
    assert {v.message.split(" yet")[0] for v in found} == {
        "hotfix/crash has not reached main", "hotfix/crash has not reached develop"}
    assert {v.rule for v in found} == {ID}


def test_deleting_merged_releases_and_any_feature_passes(repo: Repo) -> None:
    release = branch(repo, "release/1.0.0", "develop")
    merge(repo, "main", "release/1.0.0")
    merge(repo, "develop", "release/1.0.0")
    feature = branch(repo, "feature/gone", "develop")
    event = push(("release/1.0.0", release, ZERO_SHA), ("feature/gone", feature, ZERO_SHA))
    assert check(ID, event, repo, Stage.PRE_RECEIVE) == []
