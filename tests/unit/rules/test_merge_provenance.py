"""merge_evidence: refs decide where a merge came from; the subject is only a hint."""
from __future__ import annotations

from flowwarden.facts.provenance import Evidence, RefView, loose_claim, merge_evidence

A, B = "a" * 40, "b" * 40


def test_a_ref_outweighs_the_subject_and_the_claim_is_kept() -> None:
    view = RefView({A: (("feature/x", "ref"),)})
    found = merge_evidence(A, "Merge branch 'release/9.9.9'", view)
    assert (found.branch, found.how, found.claimed, found.proven) == \
        ("feature/x", "ref", "release/9.9.9", True)


def test_the_claimed_name_wins_among_refs_that_hold_the_commit() -> None:
    view = RefView({A: (("feature/a", "ref"), ("release/1.2.0", "deleted ref"))})
    found = merge_evidence(A, "Merge branch 'release/1.2.0'", view)
    assert (found.branch, found.how, found.claimed) == ("release/1.2.0", "deleted ref", None)
    assert "deleted by this push" in found.detail


def test_without_refs_the_subject_is_a_hint_only() -> None:
    found = merge_evidence(A, "Merge remote-tracking branch 'origin/hotfix/1'", RefView({},
                           remotes=("origin",)))
    assert (found.branch, found.how, found.proven) == ("hotfix/1", "subject", False)
    none = merge_evidence(A, "Merged changes", RefView({B: (("develop", "ref"),)}))
    assert (none.branch, none.how) == (None, "none")


def test_a_tag_resolves_to_the_merge_it_names() -> None:
    view = RefView({A: (("main", "ref"),)}, {A: ("1.11.0",)})

    def resolve(sha: str) -> Evidence:
        return Evidence("release/1.11.0", "tag", "tag 1.11.0 names the merge into main")

    found = merge_evidence(A, "Merge tag '1.11.0' into develop", view, resolve)
    assert (found.branch, found.how) == ("release/1.11.0", "tag")


def test_a_custom_subject_is_read_loosely() -> None:
    def names(word: str) -> bool:
        return word.startswith(("feature/", "release/"))

    assert loose_claim("Merge feature/x", names) == "feature/x"
    assert loose_claim("Ship it (release/1.2)", names) == "release/1.2"
    assert loose_claim("Add the login form (#12)", names) is None
