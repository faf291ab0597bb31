"""Run the rules that apply to an event and turn their findings into an outcome."""
from __future__ import annotations

from flowwarden.core.records import Event, Outcome, Severity, Violation
from flowwarden.engine.skips import apply_skips
from flowwarden.rules import Context, rules_for


def evaluate(event: Event, ctx: Context) -> Outcome:
    """Every applicable rule's violations, at the policy's severity, skips and waivers marked."""
    found: list[Violation] = []
    for rule in rules_for(ctx.stage):
        if not rule.applies(event, ctx.stage):
            continue
        severity = ctx.policy.severity(rule.id, rule.default_severity)
        if severity is Severity.OFF:
            continue
        for violation in rule.check(event, ctx):
            if violation.severity is rule.default_severity:
                violation = violation.with_severity(severity)
            found.append(violation)
    if not found:
        return Outcome()
    from flowwarden.engine import waivers  # dataclasses and datetime: only when there is news

    skipped = apply_skips(found, ctx.stage, ctx.policy, ctx.env)
    return Outcome(waivers.apply(tuple(skipped), event, ctx))
