"""What the run rules share: where they answer, the fix that adds a trailer, and the cited
runs looked up in the tracking store, with one notice when it cannot answer."""
from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from flowwarden.adapters.mlflow import Run, StoreUnreachable
from flowwarden.core.records import (
    CommitAttempt,
    CommitMessage,
    Event,
    MergeAttempt,
    Push,
    Severity,
    Violation,
)
from flowwarden.core.stages import (
    CONCLUDED_MERGE_STAGES,
    MERGE_STAGES,
    MESSAGE_STAGES,
    PUSH_STAGES,
    Stage,
)
from flowwarden.facts.runs import Message, Scope, citations
from flowwarden.rules.base import Context, Rule


class RunRule(Rule):
    """A rule on commit messages, merges being made (or concluded) and pushes."""

    stages = MESSAGE_STAGES | MERGE_STAGES | CONCLUDED_MERGE_STAGES | PUSH_STAGES
    events: ClassVar[tuple[type, ...]] = (CommitMessage, CommitAttempt, MergeAttempt, Push)

    def applies(self, event: Event, stage: Stage) -> bool:
        if stage not in self.stages:
            return False
        if isinstance(event, CommitMessage):
            return stage in MESSAGE_STAGES
        if isinstance(event, CommitAttempt):
            return stage in CONCLUDED_MERGE_STAGES and event.merge_head is not None
        if isinstance(event, MergeAttempt):
            return stage in MERGE_STAGES
        if isinstance(event, Push):
            return stage in PUSH_STAGES
        return False


def trailer_fix(key: str, msg: Message, scope: Scope, value: str = "<run id>") -> str:
    """The command that gives `msg` the trailer: at commit, by amending, or by a reword."""
    trailer = f'"{key}: {value}"'
    if msg.sha is None:
        return f"git commit --trailer {trailer}"
    if msg.sha == scope.tip:
        return f"git commit --amend --no-edit --trailer {trailer}"
    return (f"git rebase -i {msg.sha[:10]}~1  (reword {msg.sha[:10]}, ending its message "
            f"with {trailer})")


def verified(rule: Rule, event: Event, ctx: Context,
             what: str) -> Iterator[tuple[Message, str, Run | None] | Violation]:
    """Each cited run with what the store says about it; one unreachable notice at most."""
    runs = ctx.facts.runs
    for scope in runs.scopes(event):
        for msg, run_id in citations(scope.checked, ctx.policy.runs.trailer):
            try:
                yield msg, run_id, runs.lookup(run_id)
            except StoreUnreachable as error:
                yield from unreachable(rule, ctx, error, f"{what} {run_id}")
                return


def unreachable(rule: Rule, ctx: Context, error: StoreUnreachable,
                what: str) -> Iterator[Violation]:
    """Say once per run that the store could not answer; warn or block per policy."""
    if ctx.policy.severity(rule.id, rule.default_severity) is Severity.OFF \
            or not ctx.facts.runs.first_unreachable_notice():
        return  # a rule that is off leaves the notice to one that is on
    context, mode = ctx.policy.runs.unreachable_mode(ctx.stage)
    violation = rule.violation(
        ctx.facts.runs.store_name(), f"cannot {what}: {error} (on_unreachable.{context}: {mode})",
        "make the tracking store reachable (runs.tracking_uri or MLFLOW_TRACKING_URI), "
        f"or skip deliberately: FLOWWARDEN_SKIP={rule.id}")
    yield violation.with_severity(Severity.WARNING if mode == "warn" else Severity.ERROR)
