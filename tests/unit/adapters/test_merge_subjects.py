"""Merge subjects as git and each forge write them: parsed as hints, never as evidence."""
from __future__ import annotations

import pytest

from flowwarden.adapters.git.messages import MAX_SUBJECT, parse_merge_message, squashed_request

CASES = [
    ("Merge branch 'feature/x' into develop", "feature/x", "develop", "branch", "git", None),
    ("Merge branch 'release/0.2'", "release/0.2", None, "branch", "git", None),
    ("Merge branch 'feature/x' of https://example.com/o/r into develop",
     "feature/x", "develop", "branch", "git", None),
    ("Merge remote-tracking branch 'origin/feature/x' into develop",
     "origin/feature/x", "develop", "remote-branch", "git", None),
    ("Merge remote branch 'origin/feature/x' into develop",
     "origin/feature/x", "develop", "remote-branch", "git", None),
    ("Merge tag '1.11.0' into develop", "1.11.0", "develop", "tag", "git", None),
    ("Merge commit 'deadbeef1' into develop", "deadbeef1", "develop", "commit", "git", None),
    ("Merge pull request #12 from owner/feature/x", "feature/x", None, "pull-request",
     "github", 12),
    ("Merged pull request #3 from kiall/develop.", "develop", None, "pull-request", "github", 3),
    ("Merge branch 'feature/x' into 'develop'\n\nAdd x\n\nSee merge request group/proj!12",
     "feature/x", "develop", "branch", "gitlab", 12),
    ("Merge pull request 'Add the 'login' form' (#7) from feature/x into develop",
     "feature/x", "develop", "pull-request", "gitea", 7),
    ("Merged in feature/x (pull request #12)", "feature/x", None, "pull-request",
     "bitbucket", 12),
    ("Merged PR 123: Add the login form", None, None, "pull-request", "azure", 123),
]


@pytest.mark.parametrize(("message", "source", "target", "via", "forge", "number"), CASES)
def test_each_forge_subject_names_its_source(message: str, source: str | None,
                                             target: str | None, via: str, forge: str,
                                             number: int | None) -> None:
    info = parse_merge_message(message)
    assert info is not None
    assert (info.source, info.target, info.via, info.forge, info.number) == \
        (source, target, via, forge, number)
    assert info.remote == (via == "remote-branch")


@pytest.mark.parametrize("message", ["Merge feature/x", "Add the login form (#12)",
                                     "Merge pull request #3 from owner/x and more",
                                     "", "Revert \"Merge branch 'feature/x'\""])
def test_other_subjects_name_no_merge(message: str) -> None:
    assert parse_merge_message(message) is None


def test_a_squash_merge_subject_names_its_pull_request() -> None:
    assert squashed_request("Add the login form (#12)") == 12
    assert squashed_request("Merge branch 'feature/x'") is None
    assert squashed_request("(#12)") is None


def test_a_huge_hostile_subject_is_cut_before_matching() -> None:
    hostile = "Merge branch '" + "'" * 200_000 + " into " * 50_000
    assert parse_merge_message(hostile) is None
    long_name = "Merge branch '" + "a" * (MAX_SUBJECT + 10) + "'"
    assert parse_merge_message(long_name) is None
