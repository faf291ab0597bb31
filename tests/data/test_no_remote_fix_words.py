"""dvc-not-pushed with no DVC remote: the fix is words (a pasted `<url>` placeholder was a
shell syntax error), and doing what they say with the team's remote lets the push through.
Real DVC, a local directory remote."""
from __future__ import annotations

from pathlib import Path

from dvckit import check_push, dvc, only

from fixkit import assert_words
from fwkit import Repo


def test_no_remote_fix_is_words_that_work(pushed: Repo, tmp_path: Path) -> None:
    dvc(pushed, "remote", "remove", "storage")
    pushed.write("data/train.csv", "a\n")
    dvc(pushed, "add", "-q", "data/train.csv")
    pushed.git("add", "data/train.csv.dvc", "data/.gitignore")
    pushed.git("commit", "-qm", "Add data")
    v = only(check_push(pushed), "dvc-not-pushed")
    assert v.fix is not None
    assert_words(v.fix, pushed.env)
    assert "<" not in v.fix and "dvc remote add -d storage" in v.fix
    dvc(pushed, "remote", "add", "-d", "storage", str(tmp_path / "team-store"))  # as it says
    dvc(pushed, "push", "-q")
    assert check_push(pushed) == []
