"""The run rules called directly on real repositories, against a real MLflow server."""
from __future__ import annotations

from typing import Any

import pytest
from runkit import BRANCH, Runs, ids, make_ctx, populate, violations

from flowwarden.adapters.git.messages import cited_values, trailer_block
from flowwarden.core.records import (
    ZERO_SHA,
    CommitMessage,
    MergeAttempt,
    Push,
    RefUpdate,
    Severity,
)
from flowwarden.core.stages import Stage
from flowwarden.rules.mlflow_run_provenance import RULE as PROVENANCE

UNKNOWN = "0123456789abcdef0123456789abcdef"
GATE = {"metrics": {"val_accuracy": ">= 0.90", "val_loss": "< 0.4"}}


def msg(subject: str, *run_ids: str, key: str = "MLflow-Run-Id") -> str:
    trailers = "".join(f"{key}: {r}\n" for r in run_ids)
    return f"{subject}\n\nWhy we tried it.\n" + (f"\n{trailers}" if trailers else "")


def at_commit(repo: Any, message: str, branch: str = BRANCH, runs: dict[str, Any] | None = None,
              env: dict[str, str] | None = None, is_merge: bool = False) -> list[Any]:
    ctx = make_ctx(repo, Stage.COMMIT_MSG, runs, env)
    return violations(CommitMessage(branch, message, is_merge=is_merge), ctx)


def server(runs: Runs, **extra: Any) -> dict[str, Any]:
    return {"tracking_uri": runs.uri, **extra}


# --- trailers ---------------------------------------------------------------------------


def test_trailers_are_the_last_paragraph_never_the_subject() -> None:
    assert trailer_block("MLflow-Run-Id: abc") == []
    assert cited_values("Subject\n\nMLflow-Run-Id: a\nmlflow-run-id:b\n", "MLflow-Run-Id") \
        == ["a", "b"]
    assert cited_values("Subject\n\nMLflow-Run-Id: a\n\nA closing remark.\n",
                        "MLflow-Run-Id") == []
    assert cited_values("Subject\n\nBody text\nMLflow-Run-Id: a\n", "MLflow-Run-Id") == []


def test_comments_and_the_scissors_diff_are_not_the_message() -> None:
    raw = ("Subject\n\nMLflow-Run-Id: a\n# Please enter the commit message\n"
           "# ------------------------ >8 ------------------------\n"
           "diff --git a/x b/x\nKey: not a trailer\n")
    assert trailer_block(raw) == [("MLflow-Run-Id", "a")]


# --- mlflow-run-id ----------------------------------------------------------------------


def test_experiment_commit_without_a_run_id_is_refused_with_the_trailer_to_add(repo: Any) -> None:
    [found] = at_commit(repo, "Try a wider encoder\n", runs={"verify": False})

    assert found.rule == "mlflow-run-id" and found.severity is Severity.ERROR
    assert found.subject == BRANCH
    assert "cites no run" in found.message and "MLflow-Run-Id: <32 hex digits>" in found.message
    assert found.fix == 'git commit --trailer "MLflow-Run-Id: <run id>"'


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


# --- mlflow-run-unknown / mlflow-run-status ----------------------------------------------


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


# --- pushes and merges -----------------------------------------------------------------


def experiment_branch(repo: Any, *messages: str, branch: str = BRANCH) -> str:
    repo.git("switch", "-qc", branch, "develop")
    for n, message in enumerate(messages):
        repo.commit_file(f"exp{n}.py", f"print({n})\n", message)
    return repo.sha(branch)


def push_of(repo: Any, branch: str, old: str = ZERO_SHA) -> Push:
    return Push((RefUpdate(f"refs/heads/{branch}", old, repo.sha(branch),
                           f"refs/heads/{branch}"),), "origin", "file:///nowhere")


def test_push_checks_each_new_commit_and_names_it(repo: Any, server_runs: Runs) -> None:
    experiment_branch(repo, msg("Cited", server_runs.good), "Not cited\n",
                      msg("Cited again", server_runs.good))
    ctx = make_ctx(repo, Stage.PRE_PUSH, server(server_runs))
    [found] = violations(push_of(repo, BRANCH), ctx)

    middle = repo.sha(f"{BRANCH}~1")
    assert found.rule == "mlflow-run-id"
    assert found.subject == f"commit {middle[:10]} on {BRANCH}"
    assert f"commit {middle[:10]} on {BRANCH} ('Not cited') cites no run" in found.message
    assert found.fix is not None and found.fix.startswith(f"git rebase -i {middle[:10]}~1")


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


def test_merge_gate_shows_each_metric_against_its_threshold(repo: Any, server_runs: Runs) -> None:
    tip = experiment_branch(repo, msg("Train", server_runs.weak))
    ctx = make_ctx(repo, Stage.PRE_MERGE_COMMIT, server(server_runs, **GATE))
    [found] = violations(MergeAttempt(BRANCH, "develop", tip), ctx)

    assert found.rule == "mlflow-metric-gate" and found.subject == BRANCH
    assert found.message == (f"{BRANCH} may merge into develop only with a cited run that meets "
                             f"the gate: run {server_runs.weak} val_accuracy 0.85 (needs >= 0.90), "
                             "val_loss 0.35 (needs < 0.4, ok)")
    assert f"git merge --abort && git switch {BRANCH} && git commit --allow-empty" \
        in (found.fix or "")


def test_merge_gate_passes_when_any_cited_run_meets_it(repo: Any, server_runs: Runs) -> None:
    tip = experiment_branch(repo, msg("Train", server_runs.weak), msg("Again", server_runs.good))
    ctx = make_ctx(repo, Stage.PRE_MERGE_COMMIT, server(server_runs, **GATE))
    assert violations(MergeAttempt(BRANCH, "develop", tip), ctx) == []


def test_merge_gate_ignores_failed_runs_with_good_metrics(repo: Any, server_runs: Runs) -> None:
    tip = experiment_branch(repo, msg("Train", server_runs.failed))
    ctx = make_ctx(repo, Stage.CI, server(server_runs, metrics={"val_accuracy": ">= 0.9"}))
    found = violations(MergeAttempt(BRANCH, "develop", tip), ctx)
    gate = [v for v in found if v.rule == "mlflow-metric-gate"]
    assert gate and f"run {server_runs.failed} is FAILED" in gate[0].message


def test_merge_gate_required_params_and_tags(repo: Any, server_runs: Runs) -> None:
    tip = experiment_branch(repo, msg("Train", server_runs.good))
    ctx = make_ctx(repo, Stage.PRE_MERGE_COMMIT,
                   server(server_runs, params={"lr": "0.01"}, tags=["team", "dataset"]))
    [found] = violations(MergeAttempt(BRANCH, "develop", tip), ctx)
    assert "param lr 0.01 (needs = 0.01, ok), tag team vision (needs present, ok), " \
           "tag dataset missing (needs present)" in found.message


def test_merge_without_any_cited_run_misses_the_gate(repo: Any, server_runs: Runs) -> None:
    tip = experiment_branch(repo, "No run\n")
    ctx = make_ctx(repo, Stage.PRE_MERGE_COMMIT,
                   server(server_runs, require="one-per-branch", **GATE))
    found = violations(MergeAttempt(BRANCH, "develop", tip), ctx)
    assert sorted(ids(found)) == ["mlflow-metric-gate", "mlflow-run-id"]
    gate = next(v for v in found if v.rule == "mlflow-metric-gate")
    assert f"{BRANCH} cites no MLflow run" in gate.message
    assert "val_accuracy >= 0.90" in gate.message


def test_no_thresholds_no_gate_and_feature_merges_are_not_gated(repo: Any,
                                                                 server_runs: Runs) -> None:
    tip = experiment_branch(repo, msg("Train", server_runs.weak))
    ctx = make_ctx(repo, Stage.PRE_MERGE_COMMIT, server(server_runs))
    assert violations(MergeAttempt(BRANCH, "develop", tip), ctx) == []
    ctx = make_ctx(repo, Stage.PRE_MERGE_COMMIT, server(server_runs, **GATE))
    assert violations(MergeAttempt("feature/x", "develop", tip), ctx) == []


def test_push_to_develop_gates_the_experiment_merges_it_brings(repo: Any,
                                                               server_runs: Runs) -> None:
    experiment_branch(repo, msg("Train", server_runs.weak))
    repo.git("switch", "-q", "develop")
    old = repo.sha("develop")
    repo.git("merge", "-q", "--no-ff", "-m", f"Merge branch '{BRANCH}' into develop", BRANCH)
    ctx = make_ctx(repo, Stage.PRE_PUSH, server(server_runs, **GATE))
    [found] = violations(push_of(repo, "develop", old), ctx)

    assert found.rule == "mlflow-metric-gate" and found.subject == BRANCH
    assert "val_accuracy 0.85 (needs >= 0.90)" in found.message


# --- mlflow-run-provenance ----------------------------------------------------------------


def test_provenance_is_off_by_default(repo: Any, server_runs: Runs) -> None:
    assert PROVENANCE.default_severity is Severity.OFF
    ctx = make_ctx(repo, Stage.COMMIT_MSG, server(server_runs))
    assert list(PROVENANCE.check(CommitMessage(BRANCH, msg("S", server_runs.good)),
                                            ctx)) == []


def test_provenance_accepts_runs_from_the_history_only(repo: Any, client: Any,
                                                        server_runs: Runs) -> None:
    experiment_branch(repo, "Code\n")
    here = populate(client, server_runs.uri, commit=repo.sha())
    elsewhere = populate(client, server_runs.uri, commit=repo.sha("main"))  # also an ancestor
    repo.git("switch", "-qc", "experiment/other", "develop")
    repo.commit_file("other.py", "y\n", "Elsewhere")
    foreign = populate(client, server_runs.uri, commit=repo.sha())
    repo.git("switch", "-q", BRANCH)
    ctx = make_ctx(repo, Stage.COMMIT_MSG, server(server_runs),
                   rules={"mlflow-run-provenance": {"severity": "error"}})
    rule = PROVENANCE

    def check(run_id: str) -> list[Any]:
        return list(rule.check(CommitMessage(BRANCH, msg("Cite", run_id)), ctx))

    assert check(here.good) == [] and check(elsewhere.good) == []
    [found] = check(foreign.good)
    assert found.rule == "mlflow-run-provenance"
    assert f"was started from {repo.sha('experiment/other')[:10]}, which is not in the " \
           f"history of {repo.sha(BRANCH)[:10]}" in found.message
