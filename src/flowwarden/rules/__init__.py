"""The rule registry: every rule, found by its id in one step (`rules/<id with _>.py`)."""
from __future__ import annotations

from flowwarden.rules import (
    branch_delete,
    branch_name,
    branch_origin,
    dvc_missing_cache,
    dvc_not_ignored,
    dvc_not_pushed,
    dvc_stale_pipeline,
    dvc_untracked_data,
    force_push,
    merge_target,
    mlflow_metric_gate,
    mlflow_run_id,
    mlflow_run_provenance,
    mlflow_run_status,
    mlflow_run_unknown,
    protected_branch,
    protected_history,
    ref_object,
    tests_before_merge,
)
from flowwarden.rules.base import Context, Rule

__all__ = ["RULES", "Context", "Rule", "all_rules", "rule_by_id"]

#: Every rule, in the order they run and are listed.
RULES: tuple[Rule, ...] = (
    branch_name.RULE, branch_origin.RULE, branch_delete.RULE,
    protected_branch.RULE, merge_target.RULE, force_push.RULE, protected_history.RULE,
    ref_object.RULE,
    mlflow_run_id.RULE, mlflow_run_unknown.RULE, mlflow_run_status.RULE,
    mlflow_metric_gate.RULE, mlflow_run_provenance.RULE,
    dvc_untracked_data.RULE, dvc_missing_cache.RULE, dvc_not_ignored.RULE,
    dvc_stale_pipeline.RULE, dvc_not_pushed.RULE,
    tests_before_merge.RULE,
)
_BY_ID = {rule.id: rule for rule in RULES}


def all_rules() -> tuple[Rule, ...]:
    return RULES


def rule_by_id(rule_id: str) -> Rule | None:
    return _BY_ID.get(rule_id)
