"""branch-origin: a branch carries no commits from a long-lived branch it may not come from."""
from __future__ import annotations

from rulekit import ZERO_SHA, assert_one, branch, check, commit, merge, push, unpushed

from flowwarden.core.records import BranchCreated, BranchQuery
from flowwarden.core.stages import Stage
from fwkit import Repo

ID = "branch-origin"


def develop_ahead(repo: Repo) -> str:
    """develop gains a merged feature: a commit main does not have."""
    branch(repo, "feature/a", "develop")
    return merge(repo, "develop", "feature/a")


def test_hotfix_created_from_develop_is_flagged(repo: Repo) -> None:
    head = develop_ahead(repo)
    repo.git("switch", "-q", "-c", "hotfix/crash")
    found = check(ID, BranchCreated("hotfix/crash", head, "develop"), repo,
                  Stage.POST_CHECKOUT)
    violation = assert_one(found, ID, "hotfix/crash", "carries 2 commits from develop",
                           "not on main", "a hotfix branch may come from main")
    assert violation.fix == "git rebase --onto main develop hotfix/crash"


def test_hotfix_from_main_and_feature_from_develop_pass(repo: Repo) -> None:
    develop_ahead(repo)
    hotfix = branch(repo, "hotfix/crash", "main")
    feature = branch(repo, "feature/b", "develop")
    assert check(ID, BranchCreated("hotfix/crash", hotfix), repo, Stage.POST_CHECKOUT) == []
    assert check(ID, BranchCreated("feature/b", feature), repo, Stage.POST_CHECKOUT) == []
    assert check(ID, BranchQuery("hotfix/crash"), repo, Stage.CHECK) == []


def test_a_pushed_feature_carrying_main_only_commits_is_refused(repo: Repo) -> None:
    branch(repo, "hotfix/h", "main")
    merge(repo, "main", "hotfix/h")
    new = unpushed(repo, "main", "feature.txt")
    found = check(ID, push(("feature/y", ZERO_SHA, new)), repo, Stage.PRE_RECEIVE)
    assert_one(found, ID, "feature/y", "from main", "not on develop")


def test_a_release_merged_into_main_still_comes_from_develop(repo: Repo) -> None:
    """Commits main got by merging this very branch are the branch's own."""
    release = branch(repo, "release/1.0.0", "develop")
    merge(repo, "main", "release/1.0.0")
    repo.git("switch", "-q", "release/1.0.0")
    new = commit(repo, "notes.txt")
    found = check(ID, push(("release/1.0.0", release, new)), repo, Stage.PRE_RECEIVE)
    assert found == []
