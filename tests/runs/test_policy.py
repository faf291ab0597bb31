"""The `runs:` section of a policy, as `flowwarden policy validate` judges it."""
from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("section, where, words", [
    ('  metrics: {val_accuracy: "=> 0.9"}\n', "runs.metrics.val_accuracy", "'=> 0.9'"),
    ("  require: sometimes\n", "runs.require", "every-commit, one-per-branch"),
    ("  on_unreachable: {commit: shrug}\n", "runs.on_unreachable.commit", "warn, block"),
    ("  statuses: [DONE]\n", "runs.statuses", "FINISHED"),
    ("  trailer: 'MLflow Run'\n", "runs.trailer", "MLflow Run"),
    ("  timeout: 0\n", "runs.timeout", "0"),
    ("  metric: {}\n", "runs.metric", "did you mean 'metrics'"),
])
def test_a_bad_runs_section_is_a_located_policy_error(repo: Any, section: str, where: str,
                                                      words: str) -> None:
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\nruns:\n" + section)
    result = repo.fw("policy", "validate")

    assert result.code == 2
    assert ".flowwarden.yaml:3:" in result.err and where in result.err and words in result.err


def test_a_full_runs_section_is_valid(repo: Any) -> None:
    repo.write(".flowwarden.yaml", """\
extends: gitflow-ml
runs:
  branches: [experiment, feature]
  trailer: Run-Id
  require: one-per-branch
  exempt: [merge]
  verify: true
  statuses: [FINISHED, KILLED]
  on_unreachable: {commit: block, ci: warn}
  gate_into: [develop, main]
  metrics: {val_accuracy: ">= 0.90", val_loss: "<.4", f1: "!= -1e-3"}
  params: {optimizer: adam, seed: ~}
  tags: [dataset]
  tracking_uri: https://dagshub.com/ada/churn-model.mlflow
  timeout: 1.5
""")
    result = repo.fw("policy", "validate")
    assert result.code == 0, result.text
    assert "is valid" in result.out
