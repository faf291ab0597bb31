"""The registry's table agrees with the rules themselves, and a stage loads only its rules."""
from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import flowwarden.rules as registry
from flowwarden.core.stages import Stage
from flowwarden.rules import REGISTRY, all_rules, rule_by_id, rules_for
from flowwarden.rules.base import Rule

HELPERS = {"base", "fixes", "cited_runs", "data"}  # modules that hold no rule of their own


def test_table_matches_each_rule_class() -> None:
    for entry in REGISTRY:
        rule = importlib.import_module(entry.module).RULE
        assert isinstance(rule, Rule)
        assert rule.id == entry.id, entry.module
        assert rule.stages == entry.stages, f"{entry.id}: table {sorted(entry.stages)} " \
                                            f"vs rule {sorted(rule.stages)}"


def test_every_rule_module_is_in_the_table() -> None:
    modules = {m.name for m in pkgutil.iter_modules(registry.__path__)} - HELPERS
    assert modules == {entry.module.rsplit(".", 1)[1] for entry in REGISTRY}
    assert [r.id for r in all_rules()] == [e.id for e in REGISTRY]
    assert len({e.id for e in REGISTRY}) == len(REGISTRY)


def test_lookup_by_id_and_stage() -> None:
    rule = rule_by_id("protected-branch")
    assert rule is not None and rule.id == "protected-branch"
    assert rule_by_id("no-such-rule") is None
    assert {r.id for r in rules_for(Stage.COMMIT_MSG)} == {
        "mlflow-run-id", "mlflow-run-unknown", "mlflow-run-status", "mlflow-run-provenance"}
    assert all(Stage.PRE_PUSH in r.stages for r in rules_for(Stage.PRE_PUSH))


def test_a_stage_imports_only_its_rules() -> None:
    code = ("import sys; from flowwarden.core.stages import Stage; "
            "from flowwarden.rules import rules_for; rules_for(Stage.COMMIT_MSG); "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('flowwarden.rules.'))))")
    src = str(Path(registry.__file__).parents[2])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": src}).stdout.split()
    assert "flowwarden.rules.mlflow_run_id" in out
    assert not [m for m in out if m.startswith(("flowwarden.rules.dvc_",
                                                "flowwarden.rules.branch_",
                                                "flowwarden.rules.protected_"))], out
