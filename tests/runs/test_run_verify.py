"""mlflow-run-unknown and mlflow-run-status against real stores, and a store that cannot answer."""
from __future__ import annotations

from typing import Any

import pytest
from runkit import (
    BRANCH,
    GATE,
    UNKNOWN,
    Runs,
    at_commit,
    ids,
    make_ctx,
    msg,
    server,
    violations,
)

from flowwarden.core.records import MergeAttempt, Severity
from flowwarden.core.stages import Stage


def test_a_finished_run_passes(repo: Any, server_runs: Runs) -> None:
    assert at_commit(repo, msg("Subject", server_runs.good), runs=server(server_runs)) == []


def test_several_trailers_each_verified(repo: Any, server_runs: Runs) -> None:
    found = at_commit(repo, msg("Subject", server_runs.good, server_runs.failed, UNKNOWN),
                      runs=server(server_runs))
    assert sorted(ids(found)) == ["mlflow-run-status", "mlflow-run-unknown"]


def test_unknown_run_names_the_store(repo: Any, server_runs: Runs) -> None:
    [found] = at_commit(repo, msg("Subject", UNKNOWN), runs=server(server_runs))

    assert found.rule == "mlflow-run-unknown"
    assert found.message == (f"run {UNKNOWN} cited by the commit message on {BRANCH} "
                             f"not found in {server_runs.uri}")


def test_deleted_run_is_unknown_with_the_restore_command(repo: Any, server_runs: Runs) -> None:
    [found] = at_commit(repo, msg("Subject", server_runs.deleted), runs=server(server_runs))

    assert found.rule == "mlflow-run-unknown" and "was deleted" in found.message
    assert found.fix is not None and f"mlflow runs restore --run-id {server_runs.deleted}" \
        in found.fix


@pytest.mark.parametrize("which, status", [("failed", "FAILED"), ("running", "RUNNING")])
def test_unfinished_or_failed_run(repo: Any, server_runs: Runs, which: str, status: str) -> None:
    run_id = getattr(server_runs, which)
    [found] = at_commit(repo, msg("Subject", run_id), runs=server(server_runs))

    assert found.rule == "mlflow-run-status"
    assert f"run {run_id} (" in found.message and f"on {BRANCH} is {status}, expected FINISHED" \
        in found.message


def test_which_statuses_pass_is_configurable(repo: Any, server_runs: Runs) -> None:
    cfg = server(server_runs, statuses=["FINISHED", "RUNNING"])
    assert at_commit(repo, msg("Subject", server_runs.running), runs=cfg) == []


@pytest.mark.parametrize("store", ["sqlite_runs", "file_runs"])
def test_local_stores_verify_the_same_way(repo: Any, request: pytest.FixtureRequest,
                                          store: str) -> None:
    runs: Runs = request.getfixturevalue(store)
    cfg = {"tracking_uri": runs.uri}
    assert at_commit(repo, msg("Subject", runs.good), runs=cfg) == []
    assert ids(at_commit(repo, msg("Subject", runs.failed), runs=cfg)) == ["mlflow-run-status"]
    assert ids(at_commit(repo, msg("Subject", UNKNOWN), runs=cfg)) == ["mlflow-run-unknown"]


def test_tracking_uri_from_the_hook_environment(repo: Any, server_runs: Runs) -> None:
    env = {"MLFLOW_TRACKING_URI": server_runs.uri}
    assert ids(at_commit(repo, msg("Subject", server_runs.failed), env=env)) \
        == ["mlflow-run-status"]


def test_verify_off_never_asks_the_store(repo: Any, closed_port_uri: str) -> None:
    assert at_commit(repo, msg("Subject", UNKNOWN),
                     runs={"verify": False, "tracking_uri": closed_port_uri}) == []


# --- an unreachable store ---------------------------------------------------------------


def test_unreachable_store_warns_once_at_commit(repo: Any, closed_port_uri: str) -> None:
    found = at_commit(repo, msg("Subject", UNKNOWN, "f" * 32),
                      runs={"tracking_uri": closed_port_uri})

    [notice] = found  # one notice for both runs and both verifying rules
    assert notice.rule == "mlflow-run-unknown" and notice.severity is Severity.WARNING
    assert notice.subject == closed_port_uri
    assert "did not answer" in notice.message and "on_unreachable.commit: warn" in notice.message
    assert "FLOWWARDEN_SKIP=mlflow-run-unknown" in (notice.fix or "")


def test_no_store_configured_is_said_aloud(repo: Any) -> None:
    [notice] = at_commit(repo, msg("Subject", UNKNOWN))
    assert notice.severity is Severity.WARNING
    assert "no tracking store configured" in notice.message and "MLFLOW_TRACKING_URI" \
        in notice.message


def test_unreachable_store_blocks_a_merge(repo: Any, closed_port_uri: str) -> None:
    repo.git("switch", "-qc", BRANCH, "develop")
    repo.commit_file("train.py", "print(1)\n", msg("Train", UNKNOWN))
    ctx = make_ctx(repo, Stage.PRE_MERGE_COMMIT, {"tracking_uri": closed_port_uri, **GATE})
    found = violations(MergeAttempt(BRANCH, "develop", repo.sha(BRANCH)), ctx)

    [notice] = found
    assert notice.severity is Severity.ERROR and "on_unreachable.merge: block" in notice.message


def test_on_unreachable_is_a_policy_option(repo: Any, closed_port_uri: str) -> None:
    cfg = {"tracking_uri": closed_port_uri, "on_unreachable": {"commit": "block"}}
    [notice] = at_commit(repo, msg("Subject", UNKNOWN), runs=cfg)
    assert notice.severity is Severity.ERROR
