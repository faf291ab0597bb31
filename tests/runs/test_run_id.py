"""mlflow-run-id called directly on real repositories: the trailer at commit time, each
pushed commit, one-per-branch."""
from __future__ import annotations

from typing import Any

import pytest
from runkit import (
    BRANCH,
    GATE,
    UNKNOWN,
    Runs,
    at_commit,
    experiment_branch,
    ids,
    make_ctx,
    msg,
    push_of,
    server,
    violations,
)

from flowwarden.core.records import CommitMessage, MergeAttempt, Severity
from flowwarden.core.stages import Stage


def test_experiment_commit_without_a_run_id_is_refused_with_the_trailer_to_add(repo: Any) -> None:
    [found] = at_commit(repo, "Try a wider encoder\n", runs={"verify": False})

    assert found.rule == "mlflow-run-id" and found.severity is Severity.ERROR
    assert found.subject == BRANCH
    assert "cites no run" in found.message and "MLflow-Run-Id: <32 hex digits>" in found.message
    # no run known: words (a command never holds a placeholder), saying log it, then cite it
    assert found.fix is not None and found.fix.startswith("log the run this commit comes from")
    assert "<" not in found.fix and "git commit --trailer" in found.fix


def test_a_run_id_outside_the_trailer_block_is_pointed_out(repo: Any) -> None:
    [found] = at_commit(repo, f"Subject\n\nMLflow-Run-Id: {UNKNOWN}\n\nMore words.\n",
                        runs={"verify": False})
    assert found.rule == "mlflow-run-id" and "not in the last paragraph" in found.message


@pytest.mark.parametrize("bad, hint", [
    ("1234", ""), ("0123456789ABCDEF0123456789ABCDEF", " (lowercase it)"),
    ("0123456789abcdef0123456789abcdeg", ""),
])
def test_malformed_run_id(repo: Any, bad: str, hint: str) -> None:
    found = at_commit(repo, msg("Subject", bad), runs={"verify": False})

    assert ids(found) == ["mlflow-run-id", "mlflow-run-id"]  # malformed, so nothing is cited
    assert found[0].message == (f"the commit message on {BRANCH} cites 'MLflow-Run-Id: {bad}', "
                                f"which is not a run id{hint}: expected 32 lowercase hex digits")


def test_feature_commits_need_no_run(repo: Any) -> None:
    assert at_commit(repo, "Add a feature\n", branch="feature/login") == []
    assert at_commit(repo, "Fix\n", branch="develop") == []


def test_merge_and_fixup_commits_are_exempt_by_default(repo: Any) -> None:
    cfg = {"verify": False}
    assert at_commit(repo, "Merge branch 'develop' into experiment/x\n", runs=cfg,
                     is_merge=True) == []
    assert at_commit(repo, "fixup! Try a wider encoder\n", runs=cfg) == []
    assert ids(at_commit(repo, "fixup! Try\n", runs={**cfg, "exempt": []})) == ["mlflow-run-id"]


def test_the_trailer_key_and_branch_kinds_come_from_the_policy(repo: Any) -> None:
    cfg = {"verify": False, "trailer": "Run", "branches": ["feature"]}
    assert at_commit(repo, msg("Subject", UNKNOWN), runs=cfg) == []  # experiment: not listed
    [found] = at_commit(repo, msg("Subject", UNKNOWN), branch="feature/x", runs=cfg)
    assert "expected a trailer 'Run: <32 hex digits>'" in found.message
    assert at_commit(repo, msg("Subject", UNKNOWN, key="Run"), branch="feature/x", runs=cfg) == []



# --- pushes ---------------------------------------------------------------------------


def test_push_checks_each_new_commit_and_names_it(repo: Any, server_runs: Runs) -> None:
    experiment_branch(repo, msg("Cited", server_runs.good), "Not cited\n",
                      msg("Cited again", server_runs.good))
    ctx = make_ctx(repo, Stage.PRE_PUSH, server(server_runs))
    [found] = violations(push_of(repo, BRANCH), ctx)

    middle = repo.sha(f"{BRANCH}~1")
    assert found.rule == "mlflow-run-id"
    assert found.subject == f"commit {middle[:10]} on {BRANCH}"
    assert f"commit {middle[:10]} on {BRANCH} ('Not cited') cites no run" in found.message
    assert found.fix is not None and f"rebase -i {middle[:10]}~1 " in found.fix


def test_push_ignores_develop_commits_merged_into_the_experiment(repo: Any,
                                                                  server_runs: Runs) -> None:
    experiment_branch(repo, msg("Cited", server_runs.good))
    repo.git("switch", "-q", "develop")
    repo.commit_file("lib.py", "x = 1\n", "Develop moves on")
    repo.git("switch", "-q", BRANCH)
    repo.git("merge", "-q", "--no-ff", "-m", "Merge branch 'develop' into " + BRANCH, "develop")
    ctx = make_ctx(repo, Stage.PRE_PUSH, server(server_runs))
    assert violations(push_of(repo, BRANCH), ctx) == []


def test_an_experiment_started_from_a_feature_answers_only_for_its_own_commits(
        repo: Any, server_runs: Runs) -> None:
    repo.git("switch", "-qc", "feature/encoder", "develop")
    repo.commit_file("encoder.py", "x = 1\n", "Add the encoder")
    repo.git("switch", "-qc", BRANCH)
    repo.commit_file("train.py", "fit()\n", msg("Train it", server_runs.good))
    ctx = make_ctx(repo, Stage.PRE_PUSH, server(server_runs, **GATE))
    assert violations(push_of(repo, BRANCH), ctx) == []
    ctx = make_ctx(repo, Stage.PRE_MERGE_COMMIT, server(server_runs, **GATE))
    assert violations(MergeAttempt(BRANCH, "develop", repo.sha(BRANCH)), ctx) == []

    repo.git("branch", "-D", "feature/encoder")  # gone: its commit now counts as the branch's
    ctx = make_ctx(repo, Stage.PRE_MERGE_COMMIT, server(server_runs, **GATE))
    [found] = violations(MergeAttempt(BRANCH, "develop", repo.sha(BRANCH)), ctx)
    assert found.rule == "mlflow-run-id" and "('Add the encoder') cites no run" in found.message


def test_one_per_branch_needs_one_citing_commit_before_push(repo: Any, server_runs: Runs) -> None:
    cfg = server(server_runs, require="one-per-branch")
    assert at_commit(repo, "No run yet\n", runs=cfg) == []
    experiment_branch(repo, "No run yet\n", "Still none\n")
    [found] = violations(push_of(repo, BRANCH), make_ctx(repo, Stage.PRE_PUSH, cfg))
    assert found.rule == "mlflow-run-id" and found.subject == BRANCH
    assert "no commit of experiment/wide-encoder cites an MLflow run" in found.message
    assert "(2 commits checked)" in found.message

    repo.git("commit", "-q", "--allow-empty", "-m", msg("Record run", server_runs.good))
    assert violations(push_of(repo, BRANCH), make_ctx(repo, Stage.PRE_PUSH, cfg)) == []


def test_one_run_judges_each_event_by_its_own_messages(repo: Any) -> None:
    # An audit or a receive judges many events with one context: the facts remember each
    # event's messages under the event itself, never under another's.
    ctx = make_ctx(repo, Stage.COMMIT_MSG, {"verify": False})
    uncited, cited = CommitMessage(BRANCH, "Try\n"), CommitMessage(BRANCH, msg("Try", UNKNOWN))

    assert ids(violations(uncited, ctx)) == ["mlflow-run-id"]
    assert violations(cited, ctx) == []
    assert ids(violations(CommitMessage(BRANCH, "Try\n"), ctx)) == ["mlflow-run-id"]
