"""protected-history: every commit a push adds to a protected branch's first-parent chain is an
allowed merge."""
from __future__ import annotations

from rulekit import assert_one, branch, check, push, unpushed

from flowwarden.core.stages import Stage
from fwkit import Repo

ID = "protected-history"


def test_a_direct_commit_on_develop_is_refused(repo: Repo) -> None:
    old = repo.sha("develop")
    new = unpushed(repo, "develop", "hack.py", message="Quick fix")
    found = check(ID, push(("develop", old, new)), repo, Stage.PRE_RECEIVE)
    violation = assert_one(found, ID, "develop", new[:10], "is not a merge", "Quick fix",
                           "develop is protected")
    assert "git reset --keep origin/develop" in (violation.fix or "")


def test_at_pre_push_the_fix_resets_to_the_remote_branch(repo: Repo) -> None:
    old = repo.sha("develop")
    new = unpushed(repo, "develop", "hack.py")
    found = check(ID, push(("develop", old, new), remote="origin"), repo, Stage.PRE_PUSH)
    fix = assert_one(found, ID, "develop").fix or ""
    assert "git switch develop && git reset --keep origin/develop" in fix


def test_a_fast_forward_of_main_to_develop_is_refused(repo: Repo) -> None:
    """main takes develop's merge of a feature onto its own first-parent line."""
    branch(repo, "feature/a", "develop")
    develop = unpushed(repo, "develop", merge_of="feature/a")
    repo.git("branch", "-f", "develop", develop)
    found = check(ID, push(("main", repo.sha("main"), develop)), repo, Stage.PRE_RECEIVE)
    assert_one(found, ID, "main", develop[:10], "merges feature/a (feature)")


def test_a_feature_merged_into_main_is_refused(repo: Repo) -> None:
    branch(repo, "feature/x", "develop")
    merged = unpushed(repo, "main", merge_of="feature/x")
    found = check(ID, push(("main", repo.sha("main"), merged)), repo, Stage.PRE_RECEIVE)
    assert_one(found, ID, "main", merged[:10], "merges feature/x (feature)",
               "main accepts merges from")


def test_allowed_merges_pass(repo: Repo) -> None:
    branch(repo, "feature/x", "develop")
    branch(repo, "release/1.0.0", "develop")
    onto_develop = unpushed(repo, "develop", merge_of="feature/x",
                            message="Merge pull request #12 from owner/feature/x")
    onto_main = unpushed(repo, "main", merge_of="release/1.0.0")
    event = push(("develop", repo.sha("develop"), onto_develop),
                 ("main", repo.sha("main"), onto_main))
    assert check(ID, event, repo, Stage.PRE_RECEIVE) == []


def test_unprotected_branches_are_not_judged(repo: Repo) -> None:
    old = branch(repo, "feature/x", "develop")
    new = unpushed(repo, "feature/x", "more.txt")
    assert check(ID, push(("feature/x", old, new)), repo, Stage.PRE_RECEIVE) == []
