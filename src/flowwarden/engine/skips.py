"""FLOWWARDEN_SKIP: a deliberate, reported skip of named rules (or `all`)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from flowwarden.core.records import Violation
from flowwarden.core.stages import LOCAL_STAGES, Stage
from flowwarden.policy.model import Policy

SKIP_VARIABLE = "FLOWWARDEN_SKIP"


def requested_skips(env: Mapping[str, str]) -> frozenset[str]:
    """The rule ids FLOWWARDEN_SKIP names (comma-separated; `all` for every rule)."""
    return frozenset(s.strip() for s in env.get(SKIP_VARIABLE, "").split(",") if s.strip())


def is_skipped(rule: str, stage: Stage, policy: Policy, env: Mapping[str, str]) -> bool:
    """Whether FLOWWARDEN_SKIP skips `rule` here: any rule locally, in CI and pre-receive
    only the rules the policy marks skippable."""
    skips = requested_skips(env)
    if rule not in skips and "all" not in skips:
        return False
    return stage in LOCAL_STAGES or policy.rule_settings(rule).skippable


def apply_skips(violations: Iterable[Violation], stage: Stage, policy: Policy,
                env: Mapping[str, str]) -> list[Violation]:
    """Mark the skipped violations as waived by FLOWWARDEN_SKIP: reported, not blocking."""
    return [v.waived(SKIP_VARIABLE) if is_skipped(v.rule, stage, policy, env) else v
            for v in violations]
