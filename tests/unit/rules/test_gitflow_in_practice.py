"""Git Flow as teams use it: real branch names, tool-named branches, the frozen release and
the hotfix into the open release (nvie's model)."""
from __future__ import annotations

import pytest
from rulekit import assert_one, branch, check, merge, push

from flowwarden.core.records import CommitAttempt, MergeAttempt
from flowwarden.core.stages import Stage
from fwkit import Repo

REAL_NAMES = ["release/0.2", "release/2024.03", "release/v1.2.0-rc.1", "feature/Issue148",
              "feature/ABC-123-login", "dependabot/pip/numpy-1.26.0",
              "renovate/lodash-4.x", "patch-1", "revert-123-feature/x"]


@pytest.mark.parametrize("name", REAL_NAMES)
def test_the_preset_accepts_real_names(repo: Repo, name: str) -> None:
    assert check("branch-name", CommitAttempt(name, repo.sha(), ()), repo,
                 Stage.PRE_COMMIT) == []


@pytest.mark.parametrize("name", ["release/0.2", "feature/Issue148"])
def test_the_strict_preset_refuses_them(repo: Repo, name: str) -> None:
    repo.write(".flowwarden.yaml", "extends: gitflow-ml-strict\n")
    found = check("branch-name", CommitAttempt(name, repo.sha(), ()), repo, Stage.PRE_COMMIT)
    assert_one(found, "branch-name", name, "matches no branch kind")


@pytest.mark.parametrize(("source", "base", "target", "allowed"), [
    ("dependabot/pip/numpy-1.26.0", "develop", "develop", True),
    ("dependabot/pip/numpy-1.26.0", "develop", "main", False),
    ("renovate/lodash-4.x", "develop", "develop", True),
    ("patch-1", "develop", "develop", True),
    ("patch-1", "develop", "main", False),
    ("revert-123-feature/x", "develop", "develop", True),
    ("revert-124-release/1.2.0", "main", "main", True),
])
def test_tool_named_branches_merge_where_the_preset_says(
        repo: Repo, source: str, base: str, target: str, allowed: bool) -> None:
    tip = branch(repo, source, base)
    found = check("merge-target", MergeAttempt(source, target, tip, repo.sha(target)), repo,
                  Stage.CI)
    assert (found == []) is allowed, found


def test_a_hotfix_merges_into_the_open_release(repo: Repo) -> None:
    branch(repo, "release/1.3.0", "develop")
    tip = branch(repo, "hotfix/crash", "main")
    event = MergeAttempt("hotfix/crash", "release/1.3.0", tip, repo.sha("release/1.3.0"))
    assert check("merge-target", event, repo, Stage.PRE_MERGE_COMMIT) == []


def test_develop_may_not_merge_into_a_frozen_release(repo: Repo) -> None:
    branch(repo, "release/1.3.0", "develop")
    event = MergeAttempt("develop", "release/1.3.0", repo.sha("develop"),
                         repo.sha("release/1.3.0"))
    found = check("merge-target", event, repo, Stage.PRE_MERGE_COMMIT)
    violation = assert_one(found, "merge-target", "release/1.3.0", "is frozen",
                           "no catch-up merges from develop")
    assert (violation.fix or "").startswith("git merge --abort && git switch release/1.3.0")


def test_a_pushed_catch_up_merge_into_a_release_is_refused(repo: Repo) -> None:
    cut = branch(repo, "release/1.3.0", "develop")
    branch(repo, "feature/late", "develop")
    merge(repo, "develop", "feature/late")
    merged = merge(repo, "release/1.3.0", "develop")
    repo.git("switch", "-q", "main")
    repo.git("branch", "-f", "release/1.3.0", cut)
    found = check("branch-origin", push(("release/1.3.0", cut, merged)), repo,
                  Stage.PRE_RECEIVE)
    assert_one(found, "branch-origin", "release/1.3.0", "is frozen", "merges develop")


def test_a_feature_catches_up_with_develop(repo: Repo) -> None:
    tip = branch(repo, "feature/x", "develop")
    event = MergeAttempt("develop", "feature/x", repo.sha("develop"), tip)
    assert check("merge-target", event, repo, Stage.PRE_MERGE_COMMIT) == []


def test_a_hotfix_in_main_and_the_open_release_may_be_deleted(repo: Repo) -> None:
    branch(repo, "release/1.3.0", "develop")
    tip = branch(repo, "hotfix/crash", "main")
    merge(repo, "main", "hotfix/crash")
    merge(repo, "release/1.3.0", "hotfix/crash")
    repo.git("switch", "-q", "main")
    repo.git("branch", "-q", "-D", "hotfix/crash")
    found = check("branch-delete", push(("hotfix/crash", tip, "0" * 40)), repo,
                  Stage.PRE_RECEIVE)
    assert found == []
    repo.git("branch", "-q", "-D", "release/1.3.0")
    found = check("branch-delete", push(("hotfix/crash", tip, "0" * 40)), repo,
                  Stage.PRE_RECEIVE)
    assert_one(found, "branch-delete", "hotfix/crash", "has not reached develop")
