"""prepare-commit-msg: the runs a branch just made are offered as trailers.

Each test has a branch of its own on the shared server, and every run it makes has an explicit
start time relative to HEAD's commit: nothing depends on the clock or on other tests' runs.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from runkit import Runs, branch_run, head_time_ms, make_ctx

from flowwarden.core.stages import Stage
from flowwarden.entry.prepare import prepare_message, with_trailers

TEMPLATE = ("\n# Please enter the commit message for your changes. Lines starting\n"
            "# with '#' will be ignored, and an empty message aborts the commit.\n#\n")


def new_branch() -> str:
    return f"experiment/prep-{uuid.uuid4().hex[:8]}"


def prepare(repo: Any, runs: Runs, text: str, source: str | None = None,
            uri: str | None = None, **settings: Any) -> tuple[str | None, str]:
    """prepare-commit-msg on `text`; no source: git opened an editor on the message."""
    path = repo.path / ".git" / "COMMIT_EDITMSG"
    path.write_text(text)
    ctx = make_ctx(repo, Stage.PREPARE_COMMIT_MSG, {"tracking_uri": uri or runs.uri, **settings})
    note = prepare_message(ctx, path, source)
    return note, path.read_text()


def test_offers_the_finished_runs_of_this_branch_since_its_last_commit(
        repo: Any, client: Any, server_runs: Runs) -> None:
    branch = new_branch()
    repo.git("switch", "-qc", branch, "develop")
    repo.git("commit", "-q", "--allow-empty", "-m", "Start")
    head = head_time_ms(repo)
    experiment = server_runs.experiment
    before = branch_run(client, experiment, branch, head - 60_000)
    first = branch_run(client, experiment, branch, head + 1_000)
    failed = branch_run(client, experiment, branch, head + 2_000, "FAILED")
    second = branch_run(client, experiment, branch, head + 3_000)
    branch_run(client, experiment, "experiment/someone-else", head + 4_000)

    note, text = prepare(repo, server_runs, "Try a wider encoder\n")

    assert text == f"Try a wider encoder\n\nMLflow-Run-Id: {first}\nMLflow-Run-Id: {second}\n"
    assert before not in text and failed not in text
    assert note is not None
    assert f"added MLflow-Run-Id for the runs of {branch}" in note and first in note
    assert f"not offered: {failed} (" in note and "status FAILED, not FINISHED" in note


def test_a_run_started_in_the_second_of_the_last_commit_is_offered(
        repo: Any, client: Any, server_runs: Runs) -> None:
    # git records whole seconds: a run started later in that second is new to the branch.
    branch = new_branch()
    repo.git("switch", "-qc", branch, "develop")
    head = head_time_ms(repo)
    same_second = branch_run(client, server_runs.experiment, branch, head + 999)
    earlier = branch_run(client, server_runs.experiment, branch, head - 1)

    _note, text = prepare(repo, server_runs, "Subject\n")
    assert same_second in text and earlier not in text


def test_ids_already_in_the_message_are_not_repeated(repo: Any, client: Any,
                                                     server_runs: Runs) -> None:
    branch = new_branch()
    repo.git("switch", "-qc", branch, "develop")
    run_id = branch_run(client, server_runs.experiment, branch, head_time_ms(repo) + 1_000)
    other = branch_run(client, server_runs.experiment, branch, head_time_ms(repo) + 2_000)
    note, text = prepare(repo, server_runs, f"Subject\n\nMLflow-Run-Id: {run_id}\n")

    assert text == f"Subject\n\nMLflow-Run-Id: {run_id}\nMLflow-Run-Id: {other}\n"
    assert note is not None and other in note and run_id not in note


def test_editor_template_gets_a_free_subject_line_and_keeps_its_comments(
        repo: Any, client: Any, server_runs: Runs) -> None:
    branch = new_branch()
    repo.git("switch", "-qc", branch, "develop")
    run_id = branch_run(client, server_runs.experiment, branch, head_time_ms(repo) + 1_000)
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
    branch_run(client, server_runs.experiment, "feature/login", head_time_ms(repo) + 1_000)
    assert prepare(repo, server_runs, "Subject\n") == (None, "Subject\n")

    branch = new_branch()
    repo.git("switch", "-qc", branch, "develop")
    branch_run(client, server_runs.experiment, branch, head_time_ms(repo) + 1_000)
    merge_msg = "Merge branch 'develop' into " + branch + "\n"
    assert prepare(repo, server_runs, merge_msg, source="merge") == (None, merge_msg)


def test_an_unborn_branch_offers_every_run_of_the_branch(repo: Any, tmp_path: Path, client: Any,
                                                          server_runs: Runs) -> None:
    branch = new_branch()
    fresh = type(repo)(tmp_path / "unborn", repo.env)
    fresh.path.mkdir()
    fresh.git("init", "-q", "-b", branch)
    run_id = branch_run(client, server_runs.experiment, branch, 1_000)  # any time at all
    note, text = prepare(fresh, server_runs, "First\n")

    assert text == f"First\n\nMLflow-Run-Id: {run_id}\n" and note is not None


def test_an_unreachable_store_leaves_the_message_alone_and_says_why(
        repo: Any, server_runs: Runs, closed_port_uri: str) -> None:
    repo.git("switch", "-qc", new_branch(), "develop")
    note, text = prepare(repo, server_runs, "Subject\n", uri=closed_port_uri)

    assert text == "Subject\n"
    assert note is not None and "could not offer MLflow runs" in note and "did not answer" in note
