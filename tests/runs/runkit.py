"""Helpers for the run-rule tests: run sets, contexts, and calling the rules directly."""
from __future__ import annotations

import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parents[2]
if str(PROJECT / "src") not in sys.path:  # the package is not installed: test this checkout
    sys.path.insert(0, str(PROJECT / "src"))

from flowwarden.adapters.git import GitRepo  # noqa: E402
from flowwarden.core.records import (  # noqa: E402
    ZERO_SHA,
    CommitMessage,
    Event,
    Push,
    RefUpdate,
    Severity,
    Violation,
)
from flowwarden.core.stages import Stage  # noqa: E402
from flowwarden.policy.model import Policy  # noqa: E402
from flowwarden.rules import RULES as ALL_RULES  # noqa: E402
from flowwarden.rules.base import Context  # noqa: E402

RULES = tuple(r for r in ALL_RULES if r.id.startswith("mlflow-"))

PRESET = PROJECT / "policies" / "gitflow-ml.yaml"
BRANCH = "experiment/wide-encoder"


@dataclass(frozen=True)
class Runs:
    """Run ids in one store, by what they show."""

    uri: str
    good: str  # FINISHED, val_accuracy 0.93, val_loss 0.31, lr=0.01, tag team=vision
    weak: str  # FINISHED, val_accuracy 0.85
    failed: str
    running: str
    deleted: str
    experiment: str


def populate(client: Any, uri: str, branch: str = BRANCH, commit: str = "a" * 40) -> Runs:
    """Create the standard set of runs with the real client, as a training script would."""
    experiment = client.create_experiment(f"fw-{uuid.uuid4().hex[:8]}")
    git = {"mlflow.source.git.branch": branch, "mlflow.source.git.commit": commit}

    def run(status: str | None, metrics: Mapping[str, list[float]] = {},
            params: Mapping[str, str] = {}, tags: Mapping[str, str] = {}) -> str:
        created = client.create_run(experiment, tags={**git, **tags})
        run_id: str = created.info.run_id
        for key, values in metrics.items():
            for step, value in enumerate(values):
                client.log_metric(run_id, key, value, step=step)
        for key, value in params.items():
            client.log_param(run_id, key, value)
        if status:
            client.set_terminated(run_id, status)
        return run_id

    good = run("FINISHED", {"val_accuracy": [0.5, 0.93], "val_loss": [0.9, 0.31]},
               {"lr": "0.01"}, {"team": "vision"})
    weak = run("FINISHED", {"val_accuracy": [0.7, 0.85], "val_loss": [0.6, 0.35]},
               {"lr": "0.1"})
    failed = run("FAILED", {"val_accuracy": [0.95]})
    running = run(None)
    deleted = run("FINISHED", {"val_accuracy": [0.99]})
    client.delete_run(deleted)
    return Runs(uri, good, weak, failed, running, deleted, experiment)


def head_time_ms(repo: Any) -> int:
    """HEAD's commit time in milliseconds: prepare-commit-msg offers runs started since."""
    return int(repo.git("log", "-1", "--format=%ct").out) * 1000


def branch_run(client: Any, experiment: str, branch: str, start_ms: int,
               status: str | None = "FINISHED", commit: str = "b" * 40) -> str:
    """A run of `branch` that started at `start_ms`: no test depends on the clock."""
    run = client.create_run(experiment, start_time=start_ms,
                            tags={"mlflow.source.git.branch": branch,
                                  "mlflow.source.git.commit": commit})
    run_id: str = run.info.run_id
    if status:
        client.set_terminated(run_id, status)
    return run_id


def mlflow_client(uri: str) -> Any:
    from mlflow.tracking import (
        MlflowClient,  # imported by tests only, never by flowwarden
    )

    return MlflowClient(tracking_uri=uri)


@dataclass(frozen=True)
class AuthProxy:
    url: str  # where clients connect, including any path prefix
    origin: str  # scheme, host and port only: where to send proxied requests
    user: str
    password: str
    token: str


def policy_with(runs: Mapping[str, Any] | None = None,
                rules: Mapping[str, Any] | None = None) -> Policy:
    """The gitflow-ml preset with its `runs:` section overridden key by key."""
    document = yaml.safe_load(PRESET.read_text())
    document["runs"] = {**document.get("runs", {}), **(runs or {})}
    document["rules"] = {**document.get("rules", {}), **(rules or {})}
    return Policy.from_document(document, "gitflow-ml (test)")


def make_ctx(repo: Any, stage: Stage, runs: Mapping[str, Any] | None = None,
             env: Mapping[str, str] | None = None,
             rules: Mapping[str, Any] | None = None) -> Context:
    """A Context on the test repository; `env` is what the hook would see (MLFLOW_*)."""
    hook_env = {**repo.env, **(env or {})}
    return Context(policy_with(runs, rules), GitRepo.discover(repo.path, repo.env), stage,
                   hook_env)


def violations(event: Event, ctx: Context) -> list[Violation]:
    """Every violation the run rules yield for `event` at `ctx.stage`."""
    return [v for rule in RULES if rule.applies(event, ctx.stage)
            and ctx.policy.severity(rule.id, rule.default_severity) is not Severity.OFF
            for v in rule.check(event, ctx)]


def ids(found: list[Violation]) -> list[str]:
    return [v.rule for v in found]


# --- calling the run rules on the test repository ----------------------------------------

UNKNOWN = "0123456789abcdef0123456789abcdef"
GATE = {"metrics": {"val_accuracy": ">= 0.90", "val_loss": "< 0.4"}}


def msg(subject: str, *run_ids: str, key: str = "MLflow-Run-Id") -> str:
    """A commit message citing `run_ids` in its trailer block."""
    trailers = "".join(f"{key}: {r}\n" for r in run_ids)
    return f"{subject}\n\nWhy we tried it.\n" + (f"\n{trailers}" if trailers else "")


def at_commit(repo: Any, message: str, branch: str = BRANCH, runs: dict[str, Any] | None = None,
              env: dict[str, str] | None = None, is_merge: bool = False) -> list[Any]:
    ctx = make_ctx(repo, Stage.COMMIT_MSG, runs, env)
    return violations(CommitMessage(branch, message, is_merge=is_merge), ctx)


def server(runs: Runs, **extra: Any) -> dict[str, Any]:
    return {"tracking_uri": runs.uri, **extra}


def experiment_branch(repo: Any, *messages: str, branch: str = BRANCH) -> str:
    repo.git("switch", "-qc", branch, "develop")
    for n, message in enumerate(messages):
        repo.commit_file(f"exp{n}.py", f"print({n})\n", message)
    return repo.sha(branch)


def push_of(repo: Any, branch: str, old: str = ZERO_SHA) -> Push:
    return Push((RefUpdate(f"refs/heads/{branch}", old, repo.sha(branch),
                           f"refs/heads/{branch}"),), "origin", "file:///nowhere")
