"""The `runs:` section of a policy, as `flowwarden policy validate` judges it."""
from __future__ import annotations

from typing import Any

import pytest
from runkit import PROJECT  # noqa: F401  (puts this checkout's src on sys.path)

from flowwarden.core.errors import PolicyError
from flowwarden.policy.model import Policy


@pytest.mark.parametrize("section, where, words", [
    ('  metrics: {val_accuracy: "=> 0.9"}\n', "runs.metrics.val_accuracy", "'=> 0.9'"),
    ('  metrics: {acc: "about 0.9"}\n', "runs.metrics.acc", "'about 0.9' is not a threshold"),
    ("  metrics: {acc: 0.9}\n", "runs.metrics.acc", "expected string"),
    ("  require: sometimes\n", "runs.require", "every-commit, one-per-branch"),
    ("  on_unreachable: {commit: shrug}\n", "runs.on_unreachable.commit", "warn, block"),
    ("  statuses: [DONE]\n", "runs.statuses", "FINISHED"),
    ("  trailer: 'MLflow Run'\n", "runs.trailer", "MLflow Run"),
    ("  timeout: 0\n", "runs.timeout", "0"),
    ('  params: {lr: "<= small"}\n', "runs.params.lr", "'<= small' is not a threshold"),
    ("  offer: sometimes\n", "runs.offer", "editor, always, never"),
    ("  metric: {}\n", "runs.metric", "did you mean 'metrics'"),
])
def test_a_bad_runs_section_is_a_located_policy_error(repo: Any, section: str, where: str,
                                                      words: str) -> None:
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\nruns:\n" + section)
    result = repo.fw("policy", "validate")

    assert result.code == 2
    said = result.out + result.err  # validate prints its report on stdout
    assert ".flowwarden.yaml:3:" in said and where in said and words in said


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
  params: {optimizer: adam, seed: ~, lr: 0.001, batch: "<= 64", augment: true}
  offer: always
  tags: [dataset]
  tracking_uri: databricks://team
  timeout: 1.5
""")
    result = repo.fw("policy", "validate")
    assert result.code == 0, result.text
    assert "is valid" in result.out


def test_a_bad_gate_is_located_in_the_file_that_wrote_it(repo: Any) -> None:
    repo.write("policy/team.yaml", 'extends: gitflow-ml\nruns:\n  metrics:\n'
               '    val_loss: "< 0.4"\n    acc: "about 0.9"\n')
    repo.write(".flowwarden.yaml", "extends: policy/team.yaml\nruns:\n  timeout: 2\n")
    result = repo.fw("policy", "validate")

    assert result.code == 2
    assert "policy/team.yaml:5:10: runs.metrics.acc: 'about 0.9' is not a threshold" \
        in result.out + result.err


def test_a_bad_gate_fails_closed_at_the_hook(repo: Any) -> None:
    repo.write(".flowwarden.yaml", 'extends: gitflow-ml\nruns:\n  metrics: {acc: "high"}\n')
    repo.git("switch", "-qc", "experiment/x", "develop")
    repo.install_shims()
    repo.write("train.py", "fit()\n")
    repo.git("add", "train.py")
    result = repo.git("commit", "-m", "Train", check=False)

    assert result.code != 0
    assert ".flowwarden.yaml:3:18: runs.metrics.acc: 'high' is not a threshold" in result.err


def test_a_policy_built_from_data_names_the_bad_key() -> None:
    with pytest.raises(PolicyError, match=r"^test: runs\.metrics\.acc: 'about 0\.9' is not"):
        Policy.from_document({"runs": {"metrics": {"acc": "about 0.9"}}}, "test")
