"""merge-target: a branch merges only into the kinds its policy lists under `into`."""
from __future__ import annotations

from rulekit import assert_one, branch, check

from flowwarden.core.records import CommitAttempt, MergeAttempt
from flowwarden.core.stages import Stage
from fwkit import Repo

ID = "merge-target"


def test_feature_into_main_is_refused(repo: Repo) -> None:
    tip = branch(repo, "feature/x", "develop")
    event = MergeAttempt("feature/x", "main", tip, repo.sha("main"))
    found = check(ID, event, repo, Stage.PRE_MERGE_COMMIT)
    assert_one(found, ID, "main", "feature/x may merge into develop, not main",
               "main accepts merges from")


def test_allowed_merges_pass(repo: Repo) -> None:
    feature = branch(repo, "feature/x", "develop")
    release = branch(repo, "release/1.0.0", "develop")
    hotfix = branch(repo, "hotfix/crash", "main")
    for source, sha, target in [("feature/x", feature, "develop"),
                                ("release/1.0.0", release, "main"),
                                ("release/1.0.0", release, "develop"),
                                ("hotfix/crash", hotfix, "develop")]:
        event = MergeAttempt(source, target, sha, repo.sha(target))
        assert check(ID, event, repo, Stage.PRE_MERGE_COMMIT) == [], (source, target)


def test_a_merge_by_sha_is_judged_by_the_branch_at_that_sha(repo: Repo) -> None:
    tip = branch(repo, "feature/x", "develop")
    found = check(ID, MergeAttempt(tip, "main", tip), repo, Stage.PRE_MERGE_COMMIT)
    assert_one(found, ID, "main", "feature/x")


def test_a_remote_tracking_source_is_judged_by_its_branch(repo: Repo) -> None:
    tip = branch(repo, "feature/x", "develop")
    repo.git("remote", "add", "origin", repo.path.as_uri())
    repo.git("update-ref", "refs/remotes/origin/feature/x", tip)
    event = MergeAttempt("origin/feature/x", "main", tip)
    assert_one(check(ID, event, repo, Stage.PRE_MERGE_COMMIT), ID, "main", "feature/x")
    event = MergeAttempt("origin/feature/x", "develop", tip)
    assert check(ID, event, repo, Stage.PRE_MERGE_COMMIT) == []


def test_a_concluded_conflicted_merge_is_judged_at_pre_commit(repo: Repo) -> None:
    tip = branch(repo, "feature/x", "develop")
    head = repo.sha("main")
    refused = CommitAttempt("main", head, (), merge_head=tip, merge_source="feature/x")
    assert_one(check(ID, refused, repo, Stage.PRE_COMMIT), ID, "main", "feature/x")
    allowed = CommitAttempt("develop", head, (), merge_head=tip, merge_source="feature/x")
    assert check(ID, allowed, repo, Stage.PRE_COMMIT) == []
    plain = CommitAttempt("main", head, ())
    assert check(ID, plain, repo, Stage.PRE_COMMIT) == []


def test_a_kind_with_no_targets_says_the_policy_merges_it_nowhere(repo: Repo) -> None:
    """develop lists nothing under `into` in the preset (releases carry it to main)."""
    event = MergeAttempt("develop", "main", repo.sha("develop"), repo.sha("main"))
    found = check(ID, event, repo, Stage.PRE_MERGE_COMMIT)
    assert_one(found, ID, "main", "develop may not merge into main: the policy lets develop "
               "branches merge into no branch (its kind lists nothing under `into`)",
               "main accepts merges from")
    assert "into nothing" not in found[0].message
