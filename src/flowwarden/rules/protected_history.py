"""protected-history: every commit a push adds to a protected branch is an allowed merge."""
from __future__ import annotations

from collections.abc import Iterator
from shlex import quote

from flowwarden.adapters.git.messages import parse_merge_message
from flowwarden.core.records import (
    Event,
    Push,
    RefUpdate,
    Violation,
)
from flowwarden.core.stages import PUSH_STAGES, Stage
from flowwarden.policy.model import BranchKind
from flowwarden.rules.base import Context, Rule


class ProtectedHistory(Rule):
    id = "protected-history"
    summary = ("Every commit a push adds to a protected branch's first-parent chain is an "
               "allowed merge.")
    stages = PUSH_STAGES
    events = (Push,)
    doc = """\
**What it does.** At push, CI and pre-receive, walks the commits the push adds to a protected
branch's first-parent chain. Each must be a merge commit whose merged branch (read from the
merge message git, GitHub or GitLab wrote) is of a kind allowed into that branch. Root commits
are allowed.

**Why it matters.** Local hooks can be skipped with `--no-verify`, and a fast-forward merge runs
no blocking hook at all: this is where such commits are caught.

**Example.** `git switch main && git merge feature/x` (fast-forward), `git push`:
`protected-history: 3f2a1c9 on main is not a merge ("add model")`.

**Fix.** Put main back and merge properly:
`git branch -f main origin/main && git switch develop && git merge --no-ff feature/x`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        assert isinstance(event, Push)
        remote = event.remote or "origin"
        for update in event.updates:
            kind = ctx.policy.kind_of(update.branch)
            if kind is None or not kind.protected or update.is_delete:
                continue
            yield from self._check_update(update, kind, remote, event, ctx)

    def _check_update(self, update: RefUpdate, kind: BranchKind, remote: str, push: Push,
                      ctx: Context) -> Iterator[Violation]:
        branch = update.branch or ""
        reset = (f"git branch -f {quote(branch)} {quote(f'{remote}/{branch}')}"
                 if ctx.stage is Stage.PRE_PUSH else f"reset {quote(branch)} to the server's tip")
        direct = []
        for commit in ctx.facts.history.branch_additions(update, push):
            if not commit.parents:
                continue
            if not commit.is_merge:
                direct.append(commit)
                continue
            info = parse_merge_message(commit.message)
            source = ctx.facts.merged_branch(info.source if info else None, commit.parents[1])
            if source == branch:
                continue
            source_kind = ctx.policy.kind_of(source)
            if source_kind is not None and ctx.policy.merge_allowed(source_kind, kind):
                continue
            what = (f"merges {source} ({source_kind.name if source_kind else 'no kind'})"
                    if source else "merges a branch its message does not name")
            yield self.violation(
                branch, f"{commit.sha[:10]} on {branch} {what}; {branch} accepts merges from "
                f"{ctx.policy.accepted_sources(kind)} (\"{commit.subject[:60]}\")",
                f"{reset} and merge through an allowed branch", commits=(commit.sha,))
        if direct:
            first = direct[-1]
            more = f" and {len(direct) - 1} more" if len(direct) > 1 else ""
            child = next((k.name for k in ctx.policy.kinds if kind.name in k.origins
                          and not k.protected), "feature")
            yield self.violation(
                branch, f"{first.sha[:10]}{more} on {branch} {'is' if not more else 'are'} not "
                f"a merge (\"{first.subject[:60]}\"): {branch} is protected and changes only "
                f"through merges (a fast-forward merge or a --no-verify commit?)",
                f"git switch -c {quote(f'{child}/<topic>')} {update.new[:10]} && {reset}, then "
                f"merge {quote(f'{child}/<topic>')} with --no-ff",
                commits=tuple(c.sha for c in direct))


RULE = ProtectedHistory()
