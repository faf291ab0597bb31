"""branch-origin: a branch carries no commits from a long-lived branch it may not come from."""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from flowwarden.core.records import (
    BranchCreated,
    BranchQuery,
    Event,
    Push,
    RefUpdate,
    Violation,
)
from flowwarden.core.stages import PUSH_STAGES, Stage
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import shell_word


class BranchOrigin(Rule):
    id = "branch-origin"
    summary = "A branch carries no commits from a long-lived branch it may not come from."
    stages = frozenset({Stage.POST_CHECKOUT, Stage.CHECK} | PUSH_STAGES)
    events = (BranchCreated, BranchQuery, Push)
    doc = """\
**What it does.** For a branch of kind K, looks at every protected (long-lived) branch that is
not among K's allowed origins (`from:`) and reports commits the branch shares with it that are
not on an allowed origin: a hotfix carrying develop-only work, a feature carrying main-only
commits.

**Why it matters.** A hotfix cut from develop ships unreleased work to production when it
merges into main; a feature cut from main reintroduces what develop already replaced.

**Example.** `git switch -c hotfix/crash develop`, push:
`branch-origin: hotfix/crash carries 3 commits from develop that are not on main`.

A branch that shares no commit at all with its origins (an unrelated or forged root) is
refused, and so is a catch-up merge from an origin into a `frozen` kind (develop merged into
a release after its cut).

**Fix.** Move the branch onto its origin: `git rebase --onto main develop hotfix/crash`
(at a push, onto the remote's branches: `git fetch origin && git rebase --onto origin/main
origin/develop hotfix/crash`, then push with `--force-with-lease` if it was pushed before).
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if isinstance(event, Push):
            tips = ctx.facts.history.tips_after(event)
            for update in event.updates:
                if update.branch and not update.is_delete:
                    yield from self._check(update.branch, update.new, tips, ctx,
                                           event.remote or "origin")
                    yield from self._catch_up(update, event, ctx)
        elif isinstance(event, (BranchCreated, BranchQuery)):
            head = event.head if isinstance(event, BranchCreated) else None
            tips = dict(ctx.repo.local_branches())
            for name, tip in ctx.repo.branch_tips.items():
                short = name.split("/", 2)[-1] if name.startswith("remotes/") else name
                tips.setdefault(short, tip)
            sha = head or tips.get(event.branch) or ctx.repo.rev_parse(event.branch)
            if sha:
                yield from self._check(event.branch, sha, tips, ctx)

    def _check(self, branch: str, sha: str, tips: Mapping[str, str], ctx: Context,
               remote: str | None = None) -> Iterator[Violation]:
        """`remote`: the one pushed to (the fix names its branches), None: a local check."""
        kind = ctx.policy.kind_of(branch)
        if kind is None or kind.protected or not kind.origins:
            return
        origins = ctx.policy.origin_kinds(kind)
        origin_tips = [t for o in origins for t in o.tips_in(tips).values()]
        if not origin_tips:
            return
        if all(ctx.facts.provenance.unrelated(sha, t) for t in origin_tips):
            names = ", ".join(sorted(n for o in origins for n in o.tips_in(tips)))
            yield self.violation(
                branch, f"{branch} shares no commit with {names}: a {kind.name} branch comes "
                f"from {', '.join(kind.origins)}, and this history does not (an unrelated or "
                f"forged root?)", f"{_fetch(remote)}git rebase --root --onto "
                f"{_ref(names.split(', ')[0], remote, ctx)} {shell_word(branch)}"
                f"{_republish(branch, remote, ctx)}")
            return
        for other in ctx.policy.protected_kinds:
            if other in origins:
                continue
            for other_name, other_sha in other.tips_in(tips).items():
                stray = [b for b in ctx.repo.merge_bases(sha, other_sha)
                         if not any(ctx.repo.is_ancestor(b, t) for t in origin_tips)]
                # A shared commit that reached `other` through a merge (this branch merged into
                # it, as a release into main) is the branch's own; only one on `other`'s own
                # first-parent line was taken from it.
                own_line = (ctx.facts.history.first_parent_line(other_sha, tuple(origin_tips))
                            if stray else frozenset())
                stray = [b for b in stray if b in own_line]
                if not stray:
                    continue
                count = ctx.repo.count(stray, origin_tips)
                origin_name = next(n for o in origins for n in o.tips_in(tips))
                yield self.violation(
                    branch, f"{branch} carries {count} commit{'s' if count != 1 else ''} from "
                    f"{other_name} that {'are' if count != 1 else 'is'} not on "
                    f"{' or '.join(o.name for o in origins)}; a {kind.name} branch may come from "
                    f"{', '.join(kind.origins)}",
                    f"{_fetch(remote)}git rebase --onto {_ref(origin_name, remote, ctx)} "
                    f"{_ref(other_name, remote, ctx)} {shell_word(branch)}"
                    f"{_republish(branch, remote, ctx)}")

    def _catch_up(self, update: RefUpdate, push: Push, ctx: Context) -> Iterator[Violation]:
        """A frozen branch (a release once cut) that merged one of its origins since."""
        branch = update.branch or ""
        kind = ctx.policy.kind_of(branch)
        if kind is None or not kind.frozen:
            return
        for commit in ctx.facts.history.branch_additions(update, push):
            if not commit.is_merge:
                continue
            evidence = ctx.facts.provenance.source(commit, push)
            source_kind = ctx.policy.kind_of(evidence.branch)
            if source_kind is not None and source_kind.name in kind.origins:
                yield self.violation(
                    branch, f"{branch} is frozen: {commit.sha[:10]} merges {evidence.branch} "
                    f"({evidence.detail}) after {branch} was cut; a {kind.name} branch takes "
                    f"merges from {ctx.policy.accepted_sources(kind)} only",
                    f"git switch {shell_word(branch)} && git reset --keep "
                    f"{commit.parents[0][:12]}  # then cherry-pick only the fixes it needs")


def _fetch(remote: str | None) -> str:
    return f"git fetch {shell_word(remote)} && " if remote else ""


def _republish(branch: str, remote: str | None, ctx: Context) -> str:
    """In CI the push has landed: the rebased branch replaces it on the server."""
    if remote is None or ctx.stage is not Stage.CI:
        return ""
    return f" && git push --force-with-lease {shell_word(remote)} {shell_word(branch)}"


def _ref(name: str, remote: str | None, ctx: Context) -> str:
    """A long-lived branch as the user can name it: the remote's copy at a push (fetched by
    the fix), else the local branch, else its remote-tracking branch."""
    if remote:
        return shell_word(f"{remote}/{name}")
    if name in ctx.repo.local_branches():
        return shell_word(name)
    tracking = sorted(n.removeprefix("remotes/") for n in ctx.repo.branch_tips
                      if n.startswith("remotes/") and n.split("/", 2)[-1] == name)
    return shell_word(tracking[0] if tracking else name)


RULE = BranchOrigin()
