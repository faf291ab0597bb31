"""The rule registry: every rule, found by its id in one step."""
from __future__ import annotations

from functools import lru_cache

from flowwarden.rules.base import Context, Rule

__all__ = ["Context", "Rule", "all_rules", "rule_by_id"]


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    # One module per domain; each exports RULES. Imported here, not at package import,
    # so `flowwarden --help` stays cheap.
    from flowwarden import checks
    from flowwarden.rules import branches, data, merges, runs

    return (*branches.RULES, *merges.RULES, *runs.RULES, *data.RULES, *checks.RULES)


def rule_by_id(rule_id: str) -> Rule | None:
    return next((r for r in all_rules() if r.id == rule_id), None)
