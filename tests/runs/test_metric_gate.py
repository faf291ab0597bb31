"""mlflow-metric-gate on merges being made and on pushes to develop, against a real server."""
from __future__ import annotations

from typing import Any

from runkit import (
    BRANCH,
    GATE,
    Runs,
    experiment_branch,
    ids,
    make_ctx,
    msg,
    push_of,
    server,
    violations,
)

from flowwarden.core.records import MergeAttempt
from flowwarden.core.stages import Stage


def test_merge_gate_shows_each_metric_against_its_threshold(repo: Any, server_runs: Runs) -> None:
    tip = experiment_branch(repo, msg("Train", server_runs.weak))
    ctx = make_ctx(repo, Stage.PRE_MERGE_COMMIT, server(server_runs, **GATE))
    [found] = violations(MergeAttempt(BRANCH, "develop", tip), ctx)

    assert found.rule == "mlflow-metric-gate" and found.subject == BRANCH
    assert found.message.startswith(f"{BRANCH} may merge into develop only with a cited run "
                                    f"that meets the gate: run {server_runs.weak} (")
    # Which value the gate used: the latest, at the highest step.
    assert found.message.endswith(") val_accuracy 0.85 (latest, step 1; needs >= 0.90), "
                                  "val_loss 0.35 (latest, step 1; needs < 0.4, ok)")
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
    assert "val_accuracy 0.85 (latest, step 1; needs >= 0.90)" in found.message
