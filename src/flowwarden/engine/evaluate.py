"""Run the rules that apply to an event and turn their findings into an outcome."""
from __future__ import annotations

from collections.abc import Sequence

from flowwarden.core.records import Event, Outcome, Severity, Violation
from flowwarden.engine.skips import SKIP_VARIABLE, apply_skips, is_skipped
from flowwarden.rules import Context, Rule, rules_for
from flowwarden.rules.base import CommandRule


def evaluate(event: Event, ctx: Context) -> Outcome:
    """Every applicable rule's violations, at the policy's severity, skips and waivers marked.
    Rules that run commands come last, and only for an event nothing has refused yet."""
    rules = [r for r in rules_for(ctx.stage) if r.applies(event, ctx.stage)
             and ctx.policy.severity(r.id, r.default_severity) is not Severity.OFF]
    outcome = _judge([r for r in rules if not isinstance(r, CommandRule)], event, ctx)
    for rule in rules:
        if not isinstance(rule, CommandRule):
            continue
        if is_skipped(rule.id, ctx.stage, ctx.policy, ctx.env):
            said = tuple(f"{what} not run: {SKIP_VARIABLE} skips {rule.id}"
                         for what in rule.planned(event, ctx))
        elif outcome.blocking:
            said = tuple(f"{what} not run: the operation is refused already"
                         for what in rule.planned(event, ctx))
        else:
            judged = _judge([rule], event, ctx)
            outcome = Outcome(outcome.violations + judged.violations, outcome.notes)
            said = judged.notes
        outcome = Outcome(outcome.violations, outcome.notes + said)
    return outcome


def _judge(rules: Sequence[Rule], event: Event, ctx: Context) -> Outcome:
    found: list[Violation] = []
    notes: list[str] = []
    for rule in rules:
        severity = ctx.policy.severity(rule.id, rule.default_severity)
        for violation in rule.check(event, ctx):
            if violation.severity is rule.default_severity:
                violation = violation.with_severity(severity)
            found.append(violation)
        notes += rule.notes(event, ctx)
    if not found:
        return Outcome((), tuple(notes))
    from flowwarden.engine import waivers  # dataclasses and datetime: only when there is news

    skipped = apply_skips(found, ctx.stage, ctx.policy, ctx.env)
    return Outcome(waivers.apply(tuple(skipped), event, ctx), tuple(notes))
