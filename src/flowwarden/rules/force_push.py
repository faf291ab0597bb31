"""force-push: no non-fast-forward update of a protected branch."""
from __future__ import annotations

from collections.abc import Iterator
from shlex import quote

from flowwarden.core.records import (
    Event,
    Push,
    Violation,
)
from flowwarden.core.stages import PUSH_STAGES
from flowwarden.rules.base import Context, Rule


class ForcePush(Rule):
    id = "force-push"
    summary = "No non-fast-forward update of a protected branch."
    stages = PUSH_STAGES
    events = (Push,)
    doc = """\
**What it does.** Refuses a push that moves a protected branch to a commit that does not
contain its current tip (`git push --force`, or a rebased main).

**Why it matters.** Rewriting a shared branch discards teammates' merges and makes released
commits unreachable.

**Example.** `git push --force origin main` after a rebase:
`force-push: main would lose 2 commits the remote has`.

**Fix.** Integrate instead of overwriting: `git pull --no-rebase origin main`, then push
without `--force`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        assert isinstance(event, Push)
        remote = event.remote or "origin"
        for update in event.updates:
            kind = ctx.policy.kind_of(update.branch)
            if kind is None or not kind.protected or update.is_create or update.is_delete:
                continue
            if update.old == update.new:
                continue
            if ctx.repo.has_object(update.old):
                if ctx.repo.is_ancestor(update.old, update.new):
                    continue
                lost = ctx.repo.count([update.old], [update.new])
                what = f"would lose {lost} commit{'s' if lost != 1 else ''} it already has"
            else:
                what = "would lose commits it has that this repository has never fetched"
            branch = update.branch or ""
            yield self.violation(
                branch, f"{branch} is protected ({kind.name}): this "
                f"non-fast-forward update {what}",
                f"git pull --no-rebase {quote(remote)} {quote(branch)} && git push {quote(remote)} "
                f"{quote(branch)}  # without --force")


RULE = ForcePush()
