"""End to end: real `git commit`, `git merge` and `git push` through flowwarden's hook shims,
with the policy's tracking store a real `mlflow server` on 127.0.0.1.

The server is shared by the session, and prepare-commit-msg offers any finished run tagged
with the branch: each test works on a branch of its own, so no other test's runs are offered.
"""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from runkit import PROJECT, Runs, branch_run, head_time_ms

UNKNOWN = "0123456789abcdef0123456789abcdef"


def policy(uri: str, extra: str = "") -> str:
    return ("extends: gitflow-ml\n"
            "runs:\n"
            f"  tracking_uri: {uri}\n"
            "  metrics: {val_accuracy: \">= 0.90\", val_loss: \"< 0.4\"}\n" + extra)


@pytest.fixture
def branch() -> str:
    """An experiment branch no run on the shared server is tagged with."""
    return f"experiment/wide-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def hooked(repo: Any, server_runs: Runs, branch: str) -> Any:
    """The test repository on `branch`, a policy naming the server, the shims as its hooks."""
    repo.write(".flowwarden.yaml", policy(server_runs.uri))
    repo.install_shims()
    repo.git("switch", "-qc", branch, "develop")
    return repo


def commit(repo: Any, message: str, path: str = "train.py") -> Any:
    repo.write(path, f"# {message[:20]}\n")
    repo.git("add", path)
    return repo.git("commit", "-m", message, check=False)


def cite(subject: str, run_id: str) -> str:
    return f"{subject}\n\nMLflow-Run-Id: {run_id}\n"


def test_experiment_commit_without_a_run_id_is_refused(branch: str, hooked: Any) -> None:
    result = commit(hooked, "Try a wider encoder")

    assert result.code == 1
    assert f"error: mlflow-run-id: the commit message on {branch} cites no run" in result.err
    assert "fix: log the run this commit comes from to MLflow" in result.err
    assert hooked.git("rev-list", "--count", "develop..HEAD").out.strip() == "0"


def test_a_bad_run_id_is_refused(hooked: Any) -> None:
    result = commit(hooked, cite("Try", "not-a-run"))
    assert result.code == 1
    assert "mlflow-run-id" in result.err and "which is not a run id" in result.err


def test_an_unknown_run_is_refused(hooked: Any, server_runs: Runs) -> None:
    result = commit(hooked, cite("Try", UNKNOWN))
    assert result.code == 1
    assert f"mlflow-run-unknown: run {UNKNOWN}" in result.err
    assert f"not found in {server_runs.uri}" in result.err


def test_a_failed_run_is_refused(hooked: Any, server_runs: Runs) -> None:
    result = commit(hooked, cite("Try", server_runs.failed))
    assert result.code == 1
    assert "mlflow-run-status" in result.err and "is FAILED, expected FINISHED" in result.err


def test_a_finished_run_is_accepted_and_recorded(hooked: Any, server_runs: Runs) -> None:
    result = commit(hooked, cite("Try", server_runs.good))
    assert result.code == 0, result.text
    assert hooked.git("log", "-1", "--format=%(trailers:key=MLflow-Run-Id,valueonly)") \
        .out.strip() == server_runs.good


def test_a_feature_commit_needs_no_run(hooked: Any) -> None:
    hooked.git("switch", "-qc", "feature/login", "develop")
    result = commit(hooked, "Add the login form", "login.py")
    assert result.code == 0, result.text


def test_an_unreachable_store_warns_at_commit_and_lets_it_through(hooked: Any,
                                                                  closed_port_uri: str) -> None:
    hooked.write(".flowwarden.yaml", policy(closed_port_uri))
    result = commit(hooked, cite("Try", UNKNOWN))

    assert result.code == 0, result.text
    assert "warning: mlflow-run-unknown: cannot verify run" in result.err
    assert "did not answer" in result.err and "on_unreachable.commit: warn" in result.err


def merge_into_develop(repo: Any, branch: str) -> Any:
    repo.git("switch", "-q", "develop")
    return repo.git("merge", "--no-ff", "-m", f"Merge branch '{branch}' into develop", branch,
                    check=False)


def test_a_merge_into_develop_below_the_gate_is_refused(branch: str, hooked: Any,
                                                        server_runs: Runs) -> None:
    assert commit(hooked, cite("Train", server_runs.weak)).code == 0
    result = merge_into_develop(hooked, branch)

    assert result.code != 0
    assert f"mlflow-metric-gate: {branch} may merge into develop only with a cited run" \
        in result.err
    assert ("val_accuracy 0.85 (latest, step 1; needs >= 0.90), "
            "val_loss 0.35 (latest, step 1; needs < 0.4, ok)") in result.err
    hooked.git("merge", "--abort")


def test_a_merge_into_develop_meeting_the_gate_goes_through(branch: str, hooked: Any,
                                                            server_runs: Runs) -> None:
    assert commit(hooked, cite("Train", server_runs.weak)).code == 0
    assert commit(hooked, cite("Train longer", server_runs.good), "more.py").code == 0
    result = merge_into_develop(hooked, branch)

    assert result.code == 0, result.text
    assert hooked.git("rev-list", "--parents", "-1", "develop").out.count(" ") == 2


def test_a_push_of_an_uncited_commit_is_refused(branch: str, hooked: Any, tmp_path: Any) -> None:
    remote = tmp_path / "remote.git"
    hooked.git("init", "-q", "--bare", str(remote))
    hooked.git("remote", "add", "origin", str(remote))
    hooked.git("push", "-q", "origin", "main", "develop", "--no-verify")
    hooked.write("train.py", "# unverified\n")
    hooked.git("add", "train.py")
    hooked.git("commit", "-qm", "Skipped the hook", "--no-verify")  # local hooks are optional
    result = hooked.git("push", "origin", branch, check=False)

    assert result.code != 0
    assert "mlflow-run-id" in result.err and "('Skipped the hook') cites no run" in result.err
    # no run of the branch known: words, no command with a placeholder to paste
    assert "then amend the commit with a last-paragraph trailer" in result.err
    assert "<run id>" not in result.err


def test_prepare_commit_msg_offers_the_run_just_made_in_the_editor(
        branch: str, hooked: Any, client: Any, server_runs: Runs) -> None:
    run_id = branch_run(client, server_runs.experiment, branch, head_time_ms(hooked) + 1000,
                        commit=hooked.sha())
    hooked.write("train.py", "# wider\n")
    hooked.git("add", "train.py")
    # The "editor" types a subject above the offered trailer and keeps the trailer.
    result = hooked.git("commit", check=False,
                        env={"GIT_EDITOR": "sed -i '1s/^/Train without copying the id/'"})

    assert result.code == 0, result.text
    assert run_id in result.text
    assert hooked.git("log", "-1", "--format=%(trailers:key=MLflow-Run-Id,valueonly)") \
        .out.strip() == run_id


def test_commit_m_never_cites_a_run_nobody_chose(branch: str, hooked: Any, client: Any,
                                                 server_runs: Runs) -> None:
    # With -m there is no editor to delete lines in: the runs are listed, not written.
    run_id = branch_run(client, server_runs.experiment, branch, head_time_ms(hooked) + 1000,
                        commit=hooked.sha())
    result = commit(hooked, "Train without copying the id")

    assert result.code == 1
    assert f"this commit could cite: {run_id}" in result.err
    assert f"git commit --trailer 'MLflow-Run-Id: {run_id}'" in result.err
    assert "mlflow-run-id" in result.err and "cites no run" in result.err

    hooked.write(".flowwarden.yaml", policy(server_runs.uri, "  offer: always\n"))
    assert commit(hooked, "Train, citing what the policy offers").code == 0
    assert hooked.git("log", "-1", "--format=%(trailers:key=MLflow-Run-Id,valueonly)") \
        .out.strip() == run_id


def test_concluding_a_conflicted_merge_below_the_gate_is_refused(branch: str, hooked: Any,
                                                                 server_runs: Runs) -> None:
    assert commit(hooked, cite("Train", server_runs.weak)).code == 0
    hooked.git("switch", "-q", "develop")
    hooked.write("train.py", "# develop's version\n")
    hooked.git("add", "train.py")
    hooked.git("commit", "-qm", "Develop edits train.py", "--no-verify")
    conflicted = merge_into_develop(hooked, branch)
    assert conflicted.code == 1 and "CONFLICT" in conflicted.out
    hooked.write("train.py", "# resolved\n")
    hooked.git("add", "train.py")
    result = hooked.git("commit", "--no-edit", check=False)

    assert result.code == 1
    assert "mlflow-metric-gate" in result.err \
        and "val_accuracy 0.85 (latest, step 1; needs >= 0.90)" in result.err


def test_the_server_refuses_what_local_hooks_never_saw(branch: str, repo: Any, tmp_path: Any,
                                                       server_runs: Runs) -> None:
    """pre-receive judges with the policy committed on develop; no local hooks at all."""
    repo.write(".flowwarden.yaml", policy(server_runs.uri))
    repo.git("add", ".flowwarden.yaml")
    repo.git("commit", "-qm", "Adopt the policy")
    repo.git("branch", "-f", "develop", "main")
    server = tmp_path / "server.git"
    repo.git("init", "-q", "--bare", str(server))
    repo.git("remote", "add", "origin", str(server))
    repo.git("push", "-q", "origin", "main", "develop")
    repo.git("-C", str(server), "config", "core.hooksPath", str(PROJECT / "hooks"))
    repo.git("switch", "-qc", branch, "develop")
    repo.commit_file("train.py", "# v1\n", cite("Train", server_runs.failed))

    refused = repo.git("push", "origin", branch, check=False)
    assert refused.code != 0
    assert "mlflow-run-status" in refused.err and "is FAILED, expected FINISHED" in refused.err

    repo.git("commit", "-q", "--amend", "-m", cite("Train", server_runs.good))
    accepted = repo.git("push", "origin", branch, check=False)
    assert accepted.code == 0, accepted.text


def test_check_merge_reports_the_gate_before_anyone_merges(branch: str, hooked: Any,
                                                           server_runs: Runs) -> None:
    assert commit(hooked, cite("Train", server_runs.weak)).code == 0
    refused = hooked.fw("check", "--merge", branch, "--into", "develop")
    assert refused.code == 1
    assert "mlflow-metric-gate" in refused.text and "val_accuracy 0.85" in refused.text

    assert commit(hooked, cite("Train longer", server_runs.good), "more.py").code == 0
    allowed = hooked.fw("check", "--merge", branch, "--into", "develop")
    assert allowed.code == 0, allowed.text
