"""Merge methods and the evidence of a merge's source, judged by protected-history."""
from __future__ import annotations

import pytest
from rulekit import assert_one, branch, check, push, unpushed

from flowwarden.core.errors import PolicyError
from flowwarden.core.stages import Stage
from flowwarden.policy.load import load_policy
from fwkit import Repo

ID = "protected-history"


def test_a_squash_merge_into_develop_is_accepted_and_noted(repo: Repo) -> None:
    old = repo.sha("develop")
    new = unpushed(repo, "develop", "login.py", message="Add the login form (#12)")
    assert check(ID, push(("develop", old, new)), repo, Stage.PRE_RECEIVE) == []


def test_a_squash_merge_into_main_is_named_for_what_it_is(repo: Repo) -> None:
    old = repo.sha("main")
    new = unpushed(repo, "main", "login.py", message="Add the login form (#12)")
    found = check(ID, push(("main", old, new)), repo, Stage.PRE_RECEIVE)
    violation = assert_one(found, ID, "main", "squash merge of pull request #12",
                           "not accepted here", "merge_methods: [merge]")
    assert "is not a merge" not in violation.message


def test_rebase_merges_accept_plain_commits_where_the_policy_says_so(repo: Repo) -> None:
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\nbranches:\n  develop:\n"
               "    merge_methods: [merge, squash, rebase]\n")
    old = repo.sha("develop")
    new = unpushed(repo, "develop", "hack.py", message="Replayed commit")
    assert check(ID, push(("develop", old, new)), repo, Stage.PRE_RECEIVE) == []


def test_a_merge_commit_where_only_squash_is_accepted_is_refused(repo: Repo) -> None:
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\nbranches:\n  develop:\n"
               "    merge_methods: [squash]\n")
    branch(repo, "feature/x", "develop")
    repo.git("switch", "-q", "main")
    new = unpushed(repo, "develop", merge_of="feature/x")
    found = check(ID, push(("develop", repo.sha("develop"), new)), repo, Stage.PRE_RECEIVE)
    assert_one(found, ID, "develop", "is a merge commit", "merge_methods: [squash]")


def test_a_subject_alone_decides_in_an_audit_but_not_at_the_server(repo: Repo) -> None:
    tip = branch(repo, "release/1.2.0", "develop")
    repo.git("switch", "-q", "main")
    new = unpushed(repo, "main", merge_of="release/1.2.0")
    repo.git("branch", "-q", "-D", "release/1.2.0")
    update = ("main", repo.sha("main"), new)
    found = check(ID, push(update), repo, Stage.PRE_RECEIVE)
    violation = assert_one(found, ID, "main", "no evidence that this merge came from "
                           "release/1.2.0", "subject_only")
    assert f"git push origin {tip}:refs/heads/release/1.2.0" in (violation.fix or "")
    assert check(ID, push(update), repo, Stage.CI) == []  # an audit: a push without a remote


def test_subject_only_accept_is_a_policy_setting(repo: Repo) -> None:
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\nmerges:\n  subject_only: {receive: "
               "accept}\n")
    branch(repo, "release/1.2.0", "develop")
    repo.git("switch", "-q", "main")
    new = unpushed(repo, "main", merge_of="release/1.2.0")
    repo.git("branch", "-q", "-D", "release/1.2.0")
    assert check(ID, push(("main", repo.sha("main"), new)), repo, Stage.PRE_RECEIVE) == []


def test_a_release_deleted_by_the_same_push_is_evidence(repo: Repo) -> None:
    tip = branch(repo, "release/1.2.0", "develop")
    repo.git("switch", "-q", "main")
    new = unpushed(repo, "main", merge_of="release/1.2.0", message="Ship it")
    repo.git("branch", "-q", "-D", "release/1.2.0")
    event = push(("main", repo.sha("main"), new), ("release/1.2.0", tip, "0" * 40))
    assert check(ID, event, repo, Stage.PRE_RECEIVE) == []


def test_at_pre_push_the_remote_tracking_branch_shows_a_spoofed_subject(repo: Repo) -> None:
    branch(repo, "feature/x", "develop")
    repo.git("update-ref", "refs/remotes/origin/feature/x", "feature/x")
    repo.git("remote", "add", "origin", "file:///nowhere")
    repo.git("switch", "-q", "main")
    new = unpushed(repo, "main", merge_of="feature/x", message="Merge branch 'release/9.9.9'")
    repo.git("branch", "-q", "-D", "feature/x")
    found = check(ID, push(("main", repo.sha("main"), new), remote="origin"), repo,
                  Stage.PRE_PUSH)
    assert_one(found, ID, "main", "merges feature/x (feature)", "refs/heads/feature/x",
               "its subject claims release/9.9.9")


def test_at_pre_push_a_local_branch_is_not_evidence(repo: Repo) -> None:
    """The server will not see it: pre-push says what pre-receive will say."""
    branch(repo, "release/1.2.0", "develop")
    repo.git("switch", "-q", "main")
    new = unpushed(repo, "main", merge_of="release/1.2.0")
    found = check(ID, push(("main", repo.sha("main"), new), remote="origin"), repo,
                  Stage.PRE_PUSH)
    assert_one(found, ID, "main", "no evidence that this merge came from release/1.2.0")


@pytest.mark.parametrize("text", ["merges: {subject_only: maybe}\n",
                                  "merges: {subject_only: {server: accept}}\n",
                                  "branches:\n  main: {merge_methods: [fast-forward]}\n"])
def test_a_malformed_merges_setting_is_a_policy_error(repo: Repo, text: str) -> None:
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\n" + text)
    with pytest.raises(PolicyError):
        load_policy(repo.path)
