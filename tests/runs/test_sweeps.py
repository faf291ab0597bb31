"""Runs as MLflow models them (issue 14): sweeps of child runs, param thresholds, logged-model
ids, and the offer at prepare-commit-msg, against the real server."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from runkit import (
    BRANCH,
    GATE,
    Runs,
    at_commit,
    experiment_branch,
    head_time_ms,
    make_ctx,
    msg,
    policy_with,
    server,
    violations,
)

from flowwarden.core.records import MergeAttempt, Violation
from flowwarden.core.stages import Stage
from flowwarden.entry.prepare import prepare_message


def make_run(client: Any, experiment: str, branch: str | None, start_ms: int | None = None,
             metrics: Mapping[str, float] = {}, parent: str | None = None,
             name: str | None = None) -> str:
    """A finished run; `branch` None: no git tags (a notebook)."""
    tags = {"mlflow.runName": name or f"run-{uuid.uuid4().hex[:4]}"}
    if branch is not None:
        tags |= {"mlflow.source.git.branch": branch, "mlflow.source.git.commit": "c" * 40}
    if parent:
        tags["mlflow.parentRunId"] = parent
    run_id: str = client.create_run(experiment, start_time=start_ms, tags=tags).info.run_id
    for key, value in metrics.items():
        client.log_metric(run_id, key, value, step=3)
    client.set_terminated(run_id, "FINISHED")
    return run_id


def sweep(client: Any, experiment: str, branch: str, accuracies: list[float],
          start_ms: int | None = None) -> tuple[str, list[str]]:
    """An Optuna-style sweep: a parent without metrics, one child run per trial."""
    start = start_ms or 0
    parent = make_run(client, experiment, branch, start_ms and start, name="sweep")
    trials = [make_run(client, experiment, branch, start_ms and start + 10 * (n + 1),
                       {"val_accuracy": acc, "val_loss": 0.2}, parent, f"trial-{n}")
              for n, acc in enumerate(accuracies)]
    return parent, trials


def merge_gate(repo: Any, runs: Runs, run_id: str, **settings: Any) -> list[Violation]:
    tip = experiment_branch(repo, msg("Train", run_id))
    ctx = make_ctx(repo, Stage.PRE_MERGE_COMMIT, server(runs, **{**GATE, **settings}))
    return violations(MergeAttempt(BRANCH, "develop", tip), ctx)


# --- sweeps ------------------------------------------------------------------------------

GATED = "experiment/sweep-gate"  # runs cited by id: their branch tag is not BRANCH


def test_a_sweep_parent_meets_the_gate_through_its_best_child(repo: Any, client: Any,
                                                              server_runs: Runs) -> None:
    parent, _trials = sweep(client, server_runs.experiment, GATED, [0.80, 0.95, 0.86])
    assert merge_gate(repo, server_runs, parent) == []


def test_a_sweep_below_the_gate_names_its_best_child(repo: Any, client: Any,
                                                     server_runs: Runs) -> None:
    parent, trials = sweep(client, server_runs.experiment, GATED, [0.80, 0.86])
    [found] = merge_gate(repo, server_runs, parent)

    assert found.rule == "mlflow-metric-gate"
    assert f"run {parent} (sweep) val_accuracy missing (needs >= 0.90)" in found.message
    assert "it is the parent of a sweep of 2 child runs, none meets the gate, the best is " \
           f"run {trials[1]} (trial-1) val_accuracy 0.86 (latest, step 3; needs >= 0.90)" \
        in found.message


# --- params ------------------------------------------------------------------------------


def test_a_param_threshold_compares_numbers(repo: Any, server_runs: Runs) -> None:
    # lr "0.1" <= "0.01" holds as text; as numbers it does not.
    [found] = merge_gate(repo, server_runs, server_runs.weak, metrics={},
                         params={"lr": "<= 0.01"})
    assert "param lr 0.1 (needs <= 0.01)" in found.message
    repo.git("switch", "-q", "develop")
    repo.git("branch", "-qD", BRANCH)
    assert merge_gate(repo, server_runs, server_runs.good, metrics={},
                      params={"lr": "<= 0.01"}) == []


@pytest.mark.parametrize("wanted", [0.01, "1e-2", "0.010"])
def test_a_param_given_as_a_number_is_equal_numerically(repo: Any, server_runs: Runs,
                                                        wanted: object) -> None:
    assert merge_gate(repo, server_runs, server_runs.good, metrics={},
                      params={"lr": wanted}) == []


def test_a_param_value_that_is_not_a_number_is_compared_as_text() -> None:
    policy = policy_with({"params": {"optimizer": "adam", "lr": 0.001}})
    assert [(p.key, p.text) for p in policy.runs.params] == [("optimizer", "= adam"),
                                                             ("lr", "= 0.001")]


def test_a_param_gated_as_a_metric_is_pointed_at(repo: Any, server_runs: Runs) -> None:
    [found] = merge_gate(repo, server_runs, server_runs.good, metrics={"lr": "<= 0.01"})
    assert "lr is not a metric but a param (0.01): gate it under runs.params" in found.message


# --- logged-model ids ----------------------------------------------------------------------


def test_a_logged_model_id_names_the_run_that_logged_it(repo: Any, client: Any,
                                                        server_runs: Runs) -> None:
    model = client.create_logged_model(server_runs.experiment, name="encoder",
                                       source_run_id=server_runs.good)
    [found] = at_commit(repo, msg("Train", model.model_id), runs=server(server_runs))

    assert found.rule == "mlflow-run-id" and "not a run id" not in found.message
    assert f"a logged model (MLflow 3), not a run: it was logged by run {server_runs.good}" \
        in found.message
    assert found.fix is not None \
        and f'--trailer "MLflow-Run-Id: {server_runs.good}"' in found.fix

    unknown = "m-" + uuid.uuid4().hex
    [missing] = at_commit(repo, msg("Train", unknown), runs=server(server_runs))
    assert "has no such model; cite the run that logged it" in missing.message


# --- the offer at prepare-commit-msg ---------------------------------------------------------


def offer(repo: Any, runs: Runs, source: str | None, **settings: Any) -> tuple[str | None, str]:
    path = repo.path / ".git" / "COMMIT_EDITMSG"
    path.write_text("Sweep the learning rate\n")
    ctx = make_ctx(repo, Stage.PREPARE_COMMIT_MSG, server(runs, **settings))
    return prepare_message(ctx, path, source), path.read_text()


def test_the_offer_groups_a_sweep_and_explains_untagged_runs(repo: Any, client: Any,
                                                             server_runs: Runs) -> None:
    branch = f"experiment/sweep-{uuid.uuid4().hex[:8]}"
    repo.git("switch", "-qc", branch, "develop")
    head = head_time_ms(repo)
    parent, trials = sweep(client, server_runs.experiment, branch, [0.8, 0.95, 0.86], head + 1)
    notebook = make_run(client, server_runs.experiment, None, head + 500, name="notebook")

    note, text = offer(repo, server_runs, None, **GATE)  # an editor opens
    assert text == f"Sweep the learning rate\n\nMLflow-Run-Id: {parent}\n"
    assert note is not None
    assert f"{parent} (sweep), a sweep of 3 trials" in note
    assert f"best val_accuracy 0.95 in trial {trials[1]} (trial-1)" in note
    assert f"not offered: {notebook} (notebook): no mlflow.source.git.branch tag" in note
    assert not any(t in text for t in trials)


@pytest.mark.parametrize(("source", "setting"), [("message", "editor"), (None, "never")])
def test_without_an_editor_the_runs_are_listed_not_written(repo: Any, client: Any,
                                                           server_runs: Runs, source: str | None,
                                                           setting: str) -> None:
    branch = f"experiment/m-{uuid.uuid4().hex[:8]}"
    repo.git("switch", "-qc", branch, "develop")
    run_id = make_run(client, server_runs.experiment, branch, head_time_ms(repo) + 1)

    note, text = offer(repo, server_runs, source, offer=setting)
    assert text == "Sweep the learning rate\n"
    assert note is not None and f"could cite: {run_id}" in note and "none was added" in note

    written_note, written = offer(repo, server_runs, "message", offer="always")
    assert written == f"Sweep the learning rate\n\nMLflow-Run-Id: {run_id}\n"
    assert written_note is not None and "added MLflow-Run-Id" in written_note
