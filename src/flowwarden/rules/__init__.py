"""The rule registry: every rule, found by its id in one step (`rules/<id with _>.py`).

The table names each rule's stages without importing it, so a hook imports only the rules of
its own stage; a test keeps the table equal to each rule class's `id` and `stages`.
"""
from __future__ import annotations

import importlib
from typing import NamedTuple

from flowwarden.core.stages import (
    CONCLUDED_MERGE_STAGES,
    MERGE_STAGES,
    MESSAGE_STAGES,
    PUSH_STAGES,
    Stage,
)
from flowwarden.rules.base import Context, Rule

__all__ = ["REGISTRY", "Context", "Rule", "all_rules", "rule_by_id", "rules_for"]


class Entry(NamedTuple):
    id: str
    stages: frozenset[Stage]

    @property
    def module(self) -> str:
        return f"{__name__}.{self.id.replace('-', '_')}"


_RUNS = MESSAGE_STAGES | MERGE_STAGES | CONCLUDED_MERGE_STAGES | PUSH_STAGES

#: Every rule, in the order they run and are listed.
REGISTRY: tuple[Entry, ...] = (
    Entry("branch-name", frozenset({Stage.PRE_COMMIT, Stage.POST_CHECKOUT, Stage.CHECK})
          | PUSH_STAGES),
    Entry("branch-origin", frozenset({Stage.POST_CHECKOUT, Stage.CHECK}) | PUSH_STAGES),
    Entry("branch-delete", PUSH_STAGES),
    Entry("protected-branch", frozenset({Stage.PRE_COMMIT}) | PUSH_STAGES),
    Entry("merge-target", MERGE_STAGES | CONCLUDED_MERGE_STAGES),
    Entry("force-push", PUSH_STAGES),
    Entry("protected-history", PUSH_STAGES),
    Entry("ref-object", PUSH_STAGES),
    Entry("mlflow-run-id", _RUNS),
    Entry("mlflow-run-unknown", _RUNS),
    Entry("mlflow-run-status", _RUNS),
    Entry("mlflow-metric-gate", MERGE_STAGES | CONCLUDED_MERGE_STAGES | PUSH_STAGES),
    Entry("mlflow-run-provenance", _RUNS),
    Entry("dvc-file-format", frozenset({Stage.PRE_COMMIT}) | PUSH_STAGES),
    Entry("dvc-untracked-data", frozenset({Stage.PRE_COMMIT}) | PUSH_STAGES),
    Entry("dvc-missing-cache", frozenset({Stage.PRE_COMMIT})),
    Entry("dvc-not-ignored", frozenset({Stage.PRE_COMMIT})),
    Entry("dvc-stale-pipeline", frozenset({Stage.PRE_COMMIT})),
    Entry("dvc-not-pushed", PUSH_STAGES),
    Entry("tests-before-merge", frozenset({Stage.PRE_MERGE_COMMIT, Stage.PRE_COMMIT,
                                           Stage.PRE_PUSH, Stage.CI})),
)
_BY_ID = {entry.id: entry for entry in REGISTRY}


def _load(entry: Entry) -> Rule:
    rule: Rule = importlib.import_module(entry.module).RULE
    return rule


def all_rules() -> tuple[Rule, ...]:
    return tuple(_load(entry) for entry in REGISTRY)


def rules_for(stage: Stage) -> tuple[Rule, ...]:
    """The rules checked at `stage`, importing no other rule's module."""
    return tuple(_load(entry) for entry in REGISTRY if stage in entry.stages)


def rule_by_id(rule_id: str) -> Rule | None:
    entry = _BY_ID.get(rule_id)
    return _load(entry) if entry is not None else None


def __getattr__(name: str) -> tuple[Rule, ...]:
    if name == "RULES":  # every rule object, imported on first use
        return all_rules()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
