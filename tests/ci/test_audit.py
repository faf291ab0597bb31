"""`flowwarden audit`: every violation on the protected branches' history, counted per rule."""
from __future__ import annotations

import json

from fwkit import Repo


def history_with_known_violations(repo: Repo) -> None:
    """Two direct commits on develop, one fast-forwarded feature commit on main,
    one feature merged into main, and one legal feature merge into develop."""
    repo.git("switch", "-q", "develop")
    repo.commit_file("a.py", "a\n", "Direct one", "--no-verify")
    repo.commit_file("b.py", "b\n", "Direct two", "--no-verify")
    repo.git("switch", "-q", "-c", "feature/ok")
    repo.commit_file("ok.py", "ok\n", "Good work")
    repo.git("switch", "-q", "develop")
    repo.git("merge", "-q", "--no-ff", "feature/ok", "-m", "Merge branch 'feature/ok' into develop")
    repo.git("switch", "-q", "main")
    repo.git("switch", "-q", "-c", "feature/ff")
    repo.commit_file("ff.py", "ff\n", "Fast-forwarded")
    repo.git("switch", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "feature/ff")
    repo.git("switch", "-q", "-c", "feature/wrong", "develop")
    repo.commit_file("wrong.py", "w\n", "Wrong target")
    repo.git("switch", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "feature/wrong", "-m", "Merge branch 'feature/wrong'")


def test_audit_counts_every_violation_per_rule(repo: Repo) -> None:
    history_with_known_violations(repo)
    result = repo.fw("audit", "--format", "json")
    assert result.code == 1, result.text
    report = json.loads(result.out)
    assert [b["name"] for b in report["branches"]] == ["main", "develop"]
    # The wrong merge into main is a protected-history violation: it is on main's
    # first-parent line and merges a kind main does not accept.
    assert report["counts"] == {"protected-history": 4}
    messages = [v["message"] for v in report["violations"]]
    assert sum("merges feature/wrong" in m for m in messages) == 1
    assert report["commits"] == 5
    text = repo.fw("audit")
    assert "audited 5 commits on main, develop" in text.out
    assert "protected-history  4" in text.out and "total              4" in text.out


def test_audit_since_a_ref_skips_older_history(repo: Repo) -> None:
    history_with_known_violations(repo)
    repo.git("tag", "adopted", "main")
    repo.git("switch", "-q", "develop")
    repo.commit_file("c.py", "c\n", "Direct three", "--no-verify")
    result = repo.fw("audit", "--since", "adopted", "--format", "json")
    report = json.loads(result.out)
    assert report["counts"] == {"protected-history": 1}, result.text
    markdown = repo.fw("audit", "--since", "adopted", "--format", "markdown")
    assert "| `protected-history` | 1 | 0 | 0 |" in markdown.out


def test_audit_of_a_clean_history_passes(repo: Repo) -> None:
    result = repo.fw("audit")
    assert result.code == 0, result.text
    assert "no violations" in result.out
