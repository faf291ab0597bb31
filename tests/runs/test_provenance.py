"""mlflow-run-provenance: a cited run was started from the citing commit's history."""
from __future__ import annotations

from typing import Any

from runkit import (
    BRANCH,
    Runs,
    experiment_branch,
    make_ctx,
    msg,
    populate,
    server,
)

from flowwarden.core.records import CommitMessage, Severity
from flowwarden.core.stages import Stage
from flowwarden.rules.mlflow_run_provenance import RULE as PROVENANCE


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
