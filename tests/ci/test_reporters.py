"""The CI reporters: GitHub annotations, GitLab code quality, markdown summaries."""
from __future__ import annotations

import json

from flowwarden.core.records import Outcome, Severity, Violation
from flowwarden.report import github, gitlab, markdown

TARGET = Violation("merge-target", "feature/x", "feature/x may merge into develop, not main",
                   "git switch develop && git merge --no-ff feature/x")
HISTORY = Violation("protected-history", "1a2b3c4", "1a2b3c4 on develop: 50% direct commit",
                    None, Severity.WARNING, details=("line one\nline two",))
WAIVED = Violation("dvc-untracked-data", "data/raw.csv", "data/raw.csv is committed to git",
                   "dvc add data/raw.csv", waived_by="Flowwarden-Waive in commit 1a2b3c4: tiny")
OUTCOME = Outcome((TARGET, HISTORY, WAIVED), ("policy: main:.flowwarden.yaml",))


def test_github_annotations_are_escaped_and_titled_by_rule() -> None:
    lines = github.render(OUTCOME).splitlines()
    assert lines[0] == ("::error title=merge-target::feature/x may merge into develop, not "
                        "main%0Afix: git switch develop && git merge --no-ff feature/x")
    assert lines[1].startswith("::warning title=protected-history::1a2b3c4 on develop: 50%25")
    assert "line one%0Aline two" in lines[1]
    assert lines[2].startswith("::notice title=dvc-untracked-data (waived)::")
    assert "waived by: Flowwarden-Waive in commit 1a2b3c4%3A tiny" not in lines[2]
    assert "waived by: Flowwarden-Waive in commit 1a2b3c4: tiny" in lines[2]
    assert lines[3] == "::notice title=flowwarden::policy: main:.flowwarden.yaml"


def test_gitlab_code_quality_issues() -> None:
    issues = json.loads(gitlab.render(OUTCOME, ".flowwarden.yaml"))
    assert [i["check_name"] for i in issues] == ["merge-target", "protected-history",
                                                 "dvc-untracked-data"]
    assert [i["severity"] for i in issues] == ["major", "minor", "info"]
    assert issues[0]["location"] == {"path": ".flowwarden.yaml", "lines": {"begin": 1}}
    assert "fix: git switch develop" in issues[0]["description"]
    assert len({i["fingerprint"] for i in issues}) == 3


def test_markdown_counts_per_rule_and_lists_fixes() -> None:
    text = markdown.render(OUTCOME, title="flowwarden ci")
    assert text.startswith("## flowwarden ci: failed\n")
    assert "| `merge-target` | 1 | 0 | 0 |" in text
    assert "| `dvc-untracked-data` | 0 | 0 | 1 |" in text
    assert "fix: `git switch develop && git merge --no-ff feature/x`" in text
    assert "waived by: Flowwarden-Waive in commit 1a2b3c4: tiny" in text
    assert markdown.render(Outcome()).startswith("## flowwarden: passed\n\nNo violations.")
