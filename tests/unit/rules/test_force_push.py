"""force-push: no non-fast-forward update of a protected branch."""
from __future__ import annotations

from rulekit import ZERO_SHA, assert_one, branch, check, push, unpushed

from flowwarden.core.stages import Stage
from fwkit import Repo

ID = "force-push"


def test_rewriting_main_is_refused(repo: Repo) -> None:
    published = repo.sha("main")
    repo.git("switch", "-q", "--detach", "main")
    repo.git("commit", "-q", "--amend", "-m", "Rewritten initial commit")
    rewritten = repo.sha()
    found = check(ID, push(("main", published, rewritten), remote="origin"), repo,
                  Stage.PRE_PUSH)
    violation = assert_one(found, ID, "main", "main is protected (main)", "non-fast-forward",
                           "would lose 1 commit it already has")
    assert violation.fix is not None and "pull" not in violation.fix  # it rewrote its own
    assert violation.fix.startswith(f"git switch main && git reset --keep {published[:12]}")


def test_over_a_tip_never_fetched_is_refused(repo: Repo) -> None:
    unknown = "1234567" * 5 + "12345"
    found = check(ID, push(("develop", unknown, repo.sha("develop"))), repo, Stage.PRE_RECEIVE)
    assert_one(found, ID, "develop", "never fetched")


def test_fast_forward_creation_deletion_and_topic_branches_pass(repo: Repo) -> None:
    old = repo.sha("develop")
    ahead = unpushed(repo, "develop", "ahead.txt")
    tip = branch(repo, "feature/f", "develop")
    repo.git("commit", "-q", "--amend", "-m", "Reworded")
    event = push(("develop", old, ahead), ("release/1.0.0", ZERO_SHA, old),
                 ("main", old, ZERO_SHA), ("feature/f", tip, repo.sha()))
    assert check(ID, event, repo, Stage.PRE_RECEIVE) == []
