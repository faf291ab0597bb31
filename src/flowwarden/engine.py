"""Run the rules that apply to an event and turn their findings into an outcome."""
from __future__ import annotations

from collections.abc import Mapping

from flowwarden.adapters.git import Commit
from flowwarden.model import ZERO_SHA, Event, Outcome, Push, RefUpdate, Severity, Stage, Violation
from flowwarden.rules import Context, all_rules

LOCAL_STAGES = frozenset({
    Stage.PRE_COMMIT, Stage.PRE_MERGE_COMMIT, Stage.COMMIT_MSG, Stage.PREPARE_COMMIT_MSG,
    Stage.PRE_PUSH, Stage.POST_CHECKOUT, Stage.CHECK,
})


def evaluate(event: Event, ctx: Context) -> Outcome:
    """Every applicable rule's violations, at the policy's severity, skips marked as waived."""
    found: list[Violation] = []
    for rule in all_rules():
        if not rule.applies(event, ctx.stage):
            continue
        severity = ctx.policy.severity(rule.id, rule.default_severity)
        if severity is Severity.OFF:
            continue
        for violation in rule.check(event, ctx):
            if violation.severity is rule.default_severity:
                violation = violation.with_severity(severity)
            found.append(violation)
    return Outcome(tuple(_apply_skips(found, ctx)))


def requested_skips(env: Mapping[str, str]) -> frozenset[str]:
    return frozenset(s.strip() for s in env.get("FLOWWARDEN_SKIP", "").split(",") if s.strip())


def _apply_skips(violations: list[Violation], ctx: Context) -> list[Violation]:
    """FLOWWARDEN_SKIP waives rules locally; in CI and pre-receive only rules marked skippable."""
    skips = requested_skips(ctx.env)
    if not skips:
        return violations
    out = []
    for v in violations:
        allowed = ctx.stage in LOCAL_STAGES or ctx.policy.rule_settings(v.rule).get("skippable")
        if (v.rule in skips or "all" in skips) and allowed:
            v = v.waived("FLOWWARDEN_SKIP")
        out.append(v)
    return out


def new_commits(ctx: Context, update: RefUpdate, push: Push) -> list[Commit]:
    """Commits `update` brings that the other side does not have yet, newest first."""
    key = f"new:{update.ref}:{update.old}:{update.new}"
    if key not in ctx.cache:
        if update.is_delete:
            ctx.cache[key] = []
        else:
            ctx.cache[key] = ctx.repo.commits([update.new], _known(ctx, update),
                                              exclude_refs=_known_refs(ctx, push))
    commits: list[Commit] = ctx.cache[key]
    return commits


def branch_additions(ctx: Context, update: RefUpdate, push: Push) -> list[Commit]:
    """The commits `update` adds to its branch's first-parent chain, newest first."""
    key = f"fp:{update.ref}:{update.old}:{update.new}"
    if key not in ctx.cache:
        if update.is_delete:
            ctx.cache[key] = []
        elif update.is_create:
            ctx.cache[key] = ctx.repo.commits([update.new], first_parent=True,
                                              exclude_refs=_known_refs(ctx, push))
        else:
            ctx.cache[key] = ctx.repo.commits([update.new], _known(ctx, update),
                                              first_parent=True)
    commits: list[Commit] = ctx.cache[key]
    return commits


def _known(ctx: Context, update: RefUpdate) -> list[str]:
    if update.is_create or not ctx.repo.has_object(update.old):
        return []
    return [update.old]


def _known_refs(ctx: Context, push: Push) -> tuple[str, ...]:
    """What the receiving side already has: its branches (server) or our copy of them."""
    if ctx.stage is Stage.PRE_RECEIVE:
        return ("--branches",)
    if push.remote and push.remote in ctx.repo.remotes:
        return (f"--remotes={push.remote}",)
    return ()


def tips_after(ctx: Context, push: Push) -> dict[str, str]:
    """Branch tips as the receiving side will have them once `push` lands."""
    if push.remote and push.remote in ctx.repo.remotes:
        tips = ctx.repo.remote_branches(push.remote)
    else:
        tips = ctx.repo.local_branches()
    for update in push.updates:
        if update.branch is None:
            continue
        if update.new == ZERO_SHA:
            tips.pop(update.branch, None)
        else:
            tips[update.branch] = update.new
    return tips
