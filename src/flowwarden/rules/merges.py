"""Rules about what may land on a branch: direct commits, merges, pushes that rewrite."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.engine import branch_additions
from flowwarden.mergemsg import parse_merge_message, strip_remote
from flowwarden.model import CommitAttempt, Event, MergeAttempt, Push, RefUpdate, Stage, Violation
from flowwarden.policy.model import BranchKind, Policy
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.branches import PUSH_STAGES

MERGE_STAGES = frozenset({Stage.PRE_MERGE_COMMIT, Stage.PRE_COMMIT, Stage.CI, Stage.CHECK})


def merge_allowed(policy: Policy, source: BranchKind, target: BranchKind) -> bool:
    """`source` may merge into `target`: a listed target, or an unprotected branch catching
    up with one of its origins (develop into a feature)."""
    if target.name in source.into:
        return True
    return not target.protected and source.name in target.origins


def resolve_branch(name: str | None, sha: str | None, ctx: Context) -> str | None:
    """The branch a merged name or commit stands for: remote prefixes dropped, refs consulted."""
    if name:
        short = strip_remote(name, ctx.repo.remotes)
        if ctx.policy.kind_of(short) is not None or sha is None:
            return short
    if sha:
        named = [strip_remote(n, ctx.repo.remotes)
                 for n, tip in ctx.repo.branch_tips.items() if tip == sha]
        return next((n for n in named if ctx.policy.kind_of(n)), named[0] if named else name)
    return name


def accepted_sources(policy: Policy, target: BranchKind) -> str:
    sources = [k.name for k in policy.sources_for(target)]
    return ", ".join(sources) if sources else "no kind"


def merge_fix(source: str, source_kind: BranchKind | None, target: BranchKind,
              policy: Policy, stage: Stage) -> str:
    abort = "git merge --abort && " if stage in (Stage.PRE_MERGE_COMMIT, Stage.PRE_COMMIT) else ""
    if source_kind is not None and source_kind.into:
        into = source_kind.into[0]
        if stage is Stage.CI:
            return f"retarget the pull request from {source} to {into}"
        return f"{abort}git switch {into} && git merge --no-ff {source}"
    carrier = next((k for k in policy.sources_for(target)
                    if source_kind is not None and source_kind.name in k.origins), None)
    if carrier is not None:
        return f"{abort}git switch -c {carrier.name}/<name> {source}"
    return f"{abort}merge a {accepted_sources(policy, target)} branch instead"


class ProtectedBranch(Rule):
    id = "protected-branch"
    summary = "No direct (non-merge) commits on a protected branch."
    stages = frozenset({Stage.PRE_COMMIT})
    events = (CommitAttempt,)
    doc = """\
**What it does.** Refuses `git commit` on a branch of a protected kind (`main`/`master` and
`develop` in `gitflow-ml`) unless a merge is being concluded. The first commit of a new
repository (unborn branch) is allowed.

**Why it matters.** Protected branches change only through reviewed merges, so every change
on them has a branch, a review and a test run behind it.

**Example.** On develop: `git commit -m "tweak lr"`:
`protected-branch: develop is protected; commit on a feature branch and merge it`.

**Fix.** Take the staged change to a new branch and commit there:
`git switch -c feature/<topic> && git commit`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        assert isinstance(event, CommitAttempt)
        kind = ctx.policy.kind_of(event.branch)
        if kind is None or not kind.protected or event.merge_head or event.head is None:
            return
        child = next((k for k in ctx.policy.kinds if kind.name in k.origins and not k.protected),
                     None)
        new = f"{child.name}/<topic>" if child else "<branch>"
        yield self.violation(
            event.branch or "", f"{event.branch} is protected ({kind.name}): direct commits are "
            f"not allowed; commit on a {child.name if child else 'topic'} branch and merge it",
            f"git switch -c {new} && git commit")


class MergeTarget(Rule):
    id = "merge-target"
    summary = "A branch merges only into the kinds its policy lists under `into`."
    stages = MERGE_STAGES
    events = (MergeAttempt, CommitAttempt)
    doc = """\
**What it does.** When a merge is committed (pre-merge-commit, or `git commit` concluding a
conflicted merge), in CI for a pull request, and for `flowwarden check --merge`, checks that
the source branch's kind lists the target's kind under `into`. An unprotected branch may also
catch up with one of its origins (develop into a feature).

**Why it matters.** A feature merged straight into main skips release testing; develop merged
into main ships everything unreleased at once.

**Example.** On main: `git merge --no-ff feature/login`:
`merge-target: feature/login may merge into develop, not main`.

**Fix.** `git merge --abort && git switch develop && git merge --no-ff feature/login`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if isinstance(event, CommitAttempt):
            if not event.merge_head or not event.branch:
                return
            source = resolve_branch(event.merge_source, event.merge_head, ctx)
            target = event.branch
        elif isinstance(event, MergeAttempt):
            source = resolve_branch(event.source, event.source_sha, ctx)
            target = strip_remote(event.target, ctx.repo.remotes)
        else:
            return
        violation = self.judge(source or "(unknown)", target, ctx.policy, ctx.stage)
        if violation is not None:
            yield violation

    def judge(self, source: str, target: str, policy: Policy, stage: Stage) -> Violation | None:
        target_kind = policy.kind_of(target)
        if target_kind is None or source == target:
            return None
        source_kind = policy.kind_of(source)
        if source_kind is not None and merge_allowed(policy, source_kind, target_kind):
            return None
        fix = merge_fix(source, source_kind, target_kind, policy, stage)
        if source_kind is None:
            if not target_kind.protected:
                return None
            return self.violation(
                target, f"{source} matches no branch kind and may not merge into {target}; "
                f"{target} accepts merges from {accepted_sources(policy, target_kind)}", fix)
        allowed = ", ".join(source_kind.into) if source_kind.into else "nothing"
        return self.violation(
            target, f"{source} may merge into {allowed}, not {target} "
            f"({target} accepts merges from {accepted_sources(policy, target_kind)})", fix)


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
            yield self.violation(
                update.branch or "", f"{update.branch} is protected ({kind.name}): this "
                f"non-fast-forward update {what}",
                f"git pull --no-rebase {remote} {update.branch} && git push {remote} "
                f"{update.branch} (without --force)")


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
        reset = (f"git branch -f {branch} {remote}/{branch}"
                 if ctx.stage is Stage.PRE_PUSH else f"reset {branch} to the server's tip")
        direct = []
        for commit in branch_additions(ctx, update, push):
            if not commit.parents:
                continue
            if not commit.is_merge:
                direct.append(commit)
                continue
            info = parse_merge_message(commit.message)
            source = resolve_branch(info.source if info else None, commit.parents[1], ctx)
            if source == branch:
                continue
            source_kind = ctx.policy.kind_of(source)
            if source_kind is not None and merge_allowed(ctx.policy, source_kind, kind):
                continue
            what = (f"merges {source} ({source_kind.name if source_kind else 'no kind'})"
                    if source else "merges a branch its message does not name")
            yield self.violation(
                branch, f"{commit.sha[:10]} on {branch} {what}; {branch} accepts merges from "
                f"{accepted_sources(ctx.policy, kind)} (\"{commit.subject[:60]}\")",
                f"{reset} and merge through an allowed branch")
        if direct:
            first = direct[-1]
            more = f" and {len(direct) - 1} more" if len(direct) > 1 else ""
            child = next((k.name for k in ctx.policy.kinds if kind.name in k.origins
                          and not k.protected), "feature")
            yield self.violation(
                branch, f"{first.sha[:10]}{more} on {branch} {'is' if not more else 'are'} not "
                f"a merge (\"{first.subject[:60]}\"): {branch} is protected and changes only "
                f"through merges (a fast-forward merge or a --no-verify commit?)",
                f"git switch -c {child}/<topic> {update.new[:10]} && {reset}, then merge "
                f"{child}/<topic> with --no-ff")


RULES: tuple[Rule, ...] = (ProtectedBranch(), MergeTarget(), ForcePush(), ProtectedHistory())
