"""Waivers: trailers and policy entries turn violations into reported waivers, never silently."""
from __future__ import annotations

from typing import Any

import pytest
import yaml

from flowwarden.adapters.git import GitRepo
from flowwarden.core.errors import PolicyError
from flowwarden.core.records import CommitMessage, MergeAttempt, Severity, Violation
from flowwarden.core.stages import Stage
from flowwarden.engine.waivers import apply
from flowwarden.policy.model import Policy
from flowwarden.rules.base import Context
from fwkit import PROJECT, Repo


def context(repo: Repo, rules: dict[str, Any] | None = None,
            waivers: list[dict[str, Any]] | None = None) -> Context:
    document = yaml.safe_load((PROJECT / "policies" / "gitflow-ml.yaml").read_text())
    document = {**document, "rules": rules or {}, "waivers": waivers or []}
    return Context(Policy.from_document(document, "test"), GitRepo.discover(repo.path),
                   Stage.CI, repo.env)


WAIVABLE = {"protected-history": {"waivable": True}}


def violation(rule: str = "protected-history", subject: str = "develop",
              commits: tuple[str, ...] = ()) -> Violation:
    return Violation(rule, subject, f"{subject}: direct commit", "git revert HEAD",
                     commits=commits)


def feature_commits(repo: Repo, *messages: str) -> list[str]:
    repo.git("switch", "-q", "-c", "feature/x", "develop")
    shas = []
    for i, message in enumerate(messages):
        repo.commit_file(f"f{i}.txt", "x\n", message)
        shas.append(repo.sha())
    return shas


def test_a_trailer_in_an_incoming_commit_waives_its_rule(repo: Repo) -> None:
    feature_commits(repo, "Fix typo\n\nFlowwarden-Waive: protected-history hotfix of the "
                          "release notes\n")
    event = MergeAttempt("feature/x", "develop")
    (v,) = apply((violation(),), event, context(repo, WAIVABLE))
    assert v.waived_by is not None
    assert "hotfix of the release notes" in v.waived_by and "commit " in v.waived_by


def test_a_violation_about_one_commit_needs_that_commits_trailer(repo: Repo) -> None:
    first, second = feature_commits(
        repo, "One", "Two\n\nFlowwarden-Waive: protected-history agreed in review\n")
    event = MergeAttempt("feature/x", "develop")
    about_first, about_second = apply(
        (violation(commits=(first,)), violation(commits=(second,))), event,
        context(repo, WAIVABLE))
    assert about_first.waived_by is None
    assert about_second.waived_by is not None


def test_a_rule_the_policy_does_not_let_be_waived_stays_and_says_why(repo: Repo) -> None:
    event = CommitMessage("develop", "Tweak\n\nFlowwarden-Waive: merge-target because\n")
    (v,) = apply((violation("merge-target"),), event, context(repo, WAIVABLE))
    assert v.waived_by is None
    assert any("does not let merge-target be waived" in d for d in v.details)


def test_a_trailer_without_a_reason_is_ignored_aloud(repo: Repo) -> None:
    event = CommitMessage("develop", "Tweak\n\nFlowwarden-Waive: protected-history\n")
    (v,) = apply((violation(),), event, context(repo, WAIVABLE))
    assert v.waived_by is None and any("gives no reason" in d for d in v.details)


def test_policy_waivers_hold_until_they_expire(repo: Repo) -> None:
    event = CommitMessage("develop", "Tweak\n")
    current = [{"rule": "protected-history", "reason": "legacy import",
                "expires": "2999-12-31"}]
    (v,) = apply((violation(),), event, context(repo, WAIVABLE, current))
    assert v.waived_by == "policy waiver: legacy import (until 2999-12-31)"
    expired = [{"rule": "protected-history", "reason": "legacy import", "expires": "2020-01-31"}]
    (v,) = apply((violation(),), event, context(repo, WAIVABLE, expired))
    assert v.waived_by is None
    assert v.details == ("policy waiver for protected-history expired on 2020-01-31: "
                         "legacy import",)


def test_a_policy_waiver_for_one_subject_leaves_the_others(repo: Repo) -> None:
    event = CommitMessage("develop", "Tweak\n")
    only = [{"rule": "protected-history", "reason": "old", "subject": "main"}]
    on_main, on_develop = apply((violation(subject="main"), violation(subject="develop")),
                                event, context(repo, WAIVABLE, only))
    assert on_main.waived_by is not None and on_develop.waived_by is None


def test_violations_turned_off_are_left_alone(repo: Repo) -> None:
    event = CommitMessage("develop", "x\n\nFlowwarden-Waive: protected-history ok\n")
    off = Violation("protected-history", "develop", "m", severity=Severity.OFF)
    assert apply((off,), event, context(repo, WAIVABLE)) == (off,)


def test_only_the_trailer_block_waives(repo: Repo) -> None:
    """Like git and like MLflow-Run-Id: a `Flowwarden-Waive:` line in the body is prose, not a
    trailer (it used to count anywhere in the message)."""
    in_body = CommitMessage("develop", "Tweak\n\nFlowwarden-Waive: protected-history agreed\n\n"
                                       "More words after it.\n")
    (v,) = apply((violation(),), in_body, context(repo, WAIVABLE))
    assert v.waived_by is None
    in_block = CommitMessage("develop", "Tweak\n\nMore words.\n\nSigned-off-by: A <a@b.c>\n"
                                        "flowwarden-waive: protected-history agreed\n")
    (v,) = apply((violation(),), in_block, context(repo, WAIVABLE))
    assert v.waived_by is not None and "agreed" in v.waived_by


def test_a_policy_waiver_with_an_impossible_date_does_not_build() -> None:
    document = yaml.safe_load((PROJECT / "policies" / "gitflow-ml.yaml").read_text())
    bad = [{"rule": "protected-history", "reason": "r", "expires": "2027-02-30"}]
    with pytest.raises(PolicyError, match=r"waivers\[0\]\.expires: expected an ISO date"):
        Policy.from_document({**document, "waivers": bad}, "test")


def test_a_policy_waiver_names_a_commit_by_any_abbreviation(repo: Repo) -> None:
    """The schema says a waiver's subject may be an abbreviated commit sha: a violation about
    that commit (`Violation.commits`) is covered by 7 digits or all 40."""
    sha = feature_commits(repo, "One")[0]
    event = CommitMessage("develop", "Tweak\n")
    about = Violation("protected-history", "develop", f"{sha[:10]} on develop is not a merge",
                      "git revert HEAD", commits=(sha,))
    for written in (sha[:7], sha):
        only = [{"rule": "protected-history", "reason": "import", "subject": written}]
        (v,) = apply((about,), event, context(repo, WAIVABLE, only))
        assert v.waived_by == "policy waiver: import", written
    other = [{"rule": "protected-history", "reason": "import", "subject": "0000000"}]
    (v,) = apply((about,), event, context(repo, WAIVABLE, other))
    assert v.waived_by is None
