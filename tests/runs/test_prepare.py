"""prepare-commit-msg: the runs a branch just made are offered as trailers."""
from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from runkit import Runs, make_ctx

from flowwarden.core.stages import Stage
from flowwarden.entry.prepare import prepare_message, with_trailers

TEMPLATE = ("\n# Please enter the commit message for your changes. Lines starting\n"
            "# with '#' will be ignored, and an empty message aborts the commit.\n#\n")


def new_branch() -> str:
    return f"experiment/prep-{uuid.uuid4().hex[:8]}"


def run_on(client: Any, experiment: str, branch: str, status: str | None = "FINISHED") -> str:
    run = client.create_run(experiment, tags={"mlflow.source.git.branch": branch,
                                              "mlflow.source.git.commit": "b" * 40})
    if status:
        client.set_terminated(run.info.run_id, status)
    run_id: str = run.info.run_id
    return run_id


def prepare(repo: Any, runs: Runs, text: str, source: str | None = "message",
            uri: str | None = None) -> tuple[str | None, str]:
    path = repo.path / ".git" / "COMMIT_EDITMSG"
    path.write_text(text)
    ctx = make_ctx(repo, Stage.PREPARE_COMMIT_MSG, {"tracking_uri": uri or runs.uri})
    note = prepare_message(ctx, path, source)
    return note, path.read_text()


def test_offers_the_finished_runs_of_this_branch_since_its_last_commit(
        repo: Any, client: Any, server_runs: Runs) -> None:
    branch = new_branch()
    repo.git("switch", "-qc", branch, "develop")
    before = run_on(client, server_runs.experiment, branch)
    future = int(time.time()) + 2  # HEAD is younger than `before`, older than the next runs
    repo.git("commit", "-q", "--allow-empty", "-m", "Start",
             env={"GIT_COMMITTER_DATE": f"{future} +0000"})
    time.sleep(max(0.0, future - time.time()) + 0.05)
    first = run_on(client, server_runs.experiment, branch)
    failed = run_on(client, server_runs.experiment, branch, "FAILED")
    second = run_on(client, server_runs.experiment, branch)
    run_on(client, server_runs.experiment, "experiment/someone-else")

    note, text = prepare(repo, server_runs, "Try a wider encoder\n")

    assert text == f"Try a wider encoder\n\nMLflow-Run-Id: {first}\nMLflow-Run-Id: {second}\n"
    assert before not in text and failed not in text
    assert note is not None and "\n" not in note
    assert f"added MLflow-Run-Id for the runs of {branch}" in note and first in note
    assert f"not offered, status is not FINISHED: {failed} (FAILED)" in note


def test_ids_already_in_the_message_are_not_repeated(repo: Any, client: Any,
                                                     server_runs: Runs) -> None:
    branch = new_branch()
    repo.git("switch", "-qc", branch, "develop")
    run_id = run_on(client, server_runs.experiment, branch)
    other = run_on(client, server_runs.experiment, branch)
    note, text = prepare(repo, server_runs, f"Subject\n\nMLflow-Run-Id: {run_id}\n")

    assert text == f"Subject\n\nMLflow-Run-Id: {run_id}\nMLflow-Run-Id: {other}\n"
    assert note is not None and other in note and run_id not in note


def test_editor_template_gets_a_free_subject_line_and_keeps_its_comments(
        repo: Any, client: Any, server_runs: Runs) -> None:
    branch = new_branch()
    repo.git("switch", "-qc", branch, "develop")
    run_id = run_on(client, server_runs.experiment, branch)
    _note, text = prepare(repo, server_runs, TEMPLATE, source=None)

    assert text == f"\n\nMLflow-Run-Id: {run_id}\n\n" + TEMPLATE.lstrip("\n")


def test_trailers_go_above_the_scissors_line() -> None:
    raw = ("Subject\n\nBody\n\n# Please enter\n"
           "# ------------------------ >8 ------------------------\n# Do not modify\n"
           "diff --git a/x b/x\n")
    assert with_trailers(raw, ["MLflow-Run-Id: " + "1" * 32]) == (
        "Subject\n\nBody\n\nMLflow-Run-Id: " + "1" * 32 + "\n\n# Please enter\n"
        "# ------------------------ >8 ------------------------\n# Do not modify\n"
        "diff --git a/x b/x\n")


def test_nothing_happens_off_experiment_branches_or_for_merges(repo: Any, client: Any,
                                                               server_runs: Runs) -> None:
    repo.git("switch", "-qc", "feature/login", "develop")
    run_on(client, server_runs.experiment, "feature/login")
    assert prepare(repo, server_runs, "Subject\n") == (None, "Subject\n")

    branch = new_branch()
    repo.git("switch", "-qc", branch, "develop")
    run_on(client, server_runs.experiment, branch)
    merge_msg = "Merge branch 'develop' into " + branch + "\n"
    assert prepare(repo, server_runs, merge_msg, source="merge") == (None, merge_msg)


def test_an_unborn_branch_offers_every_run_of_the_branch(repo: Any, tmp_path: Path, client: Any,
                                                          server_runs: Runs) -> None:
    branch = new_branch()
    fresh = type(repo)(tmp_path / "unborn", repo.env)
    fresh.path.mkdir()
    fresh.git("init", "-q", "-b", branch)
    run_id = run_on(client, server_runs.experiment, branch)
    note, text = prepare(fresh, server_runs, "First\n")

    assert text == f"First\n\nMLflow-Run-Id: {run_id}\n" and note is not None


def test_an_unreachable_store_leaves_the_message_alone_and_says_why(
        repo: Any, server_runs: Runs, closed_port_uri: str) -> None:
    repo.git("switch", "-qc", new_branch(), "develop")
    note, text = prepare(repo, server_runs, "Subject\n", uri=closed_port_uri)

    assert text == "Subject\n"
    assert note is not None and "could not offer MLflow runs" in note and "did not answer" in note
