"""branch-delete: protected branches are never deleted; others once they reached their targets."""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from flowwarden.core.records import (
    Event,
    Push,
    Violation,
)
from flowwarden.core.stages import PUSH_STAGES, Stage
from flowwarden.policy.model import BranchKind
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import shell_word


class BranchDelete(Rule):
    id = "branch-delete"
    summary = ("Protected branches are never deleted; release and hotfix branches only after "
               "they reached every merge target.")
    stages = PUSH_STAGES
    events = (Push,)
    doc = """\
**What it does.** Refuses a push that deletes a protected branch, and one that deletes a
branch of a kind with `reach_before_delete: true` (release and hotfix in `gitflow-ml`) whose
tip is not yet contained in every one of its `into` targets. A branch with no commit of its
own (its tip is on its origin branch's first-parent line: a release created by mistake) loses
nothing and may go.

**Why it matters.** A deleted main loses production's history; a release deleted before it
was merged back into develop silently drops its fixes from the next release.

**Example.** `git push origin --delete release/1.2.0` before merging it into develop:
`branch-delete: release/1.2.0 has not reached develop`.

**Fix.** Merge the remote's branch first, then delete: `git fetch origin && git switch
develop && git merge --no-ff origin/release/1.2.0 && git push origin develop` (the local
branch may already be gone). A protected branch: keep it (the fix says so in words).
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        assert isinstance(event, Push)
        deletes = [u for u in event.updates if u.is_delete and u.branch]
        if not deletes:
            return
        tips = ctx.facts.history.tips_after(event)
        remote = event.remote or "origin"
        for update in deletes:
            branch = update.branch or ""
            kind = ctx.policy.kind_of(branch)
            if kind is None:
                continue
            if kind.protected:
                yield self.violation(
                    branch, f"{branch} is protected ({kind.name}) and may not be deleted",
                    "nothing to run: keep the branch, or change the policy on the protected "
                    "branches if it really must go")
                continue
            if not kind.reach_before_delete:
                continue
            yield from self._unreached(branch, update.old, kind, tips, remote, ctx)

    def _unreached(self, branch: str, sha: str, kind: BranchKind, tips: Mapping[str, str],
                   remote: str, ctx: Context) -> Iterator[Violation]:
        known = ctx.repo.has_object(sha)
        if known and _never_moved(sha, kind, tips, ctx):
            return
        # The targets that exist: an open release, say, only while one is.
        must = " and ".join(n for n in kind.into if (k := ctx.policy.kind(n)) is not None
                            and k.tips_in(tips)) or " and ".join(kind.into)
        for target_name in kind.into:
            target = ctx.policy.kind(target_name)
            if target is None or not target.protected:
                continue  # an unprotected target (an open release) is a way, not a must
            # A hotfix merged into the open release reaches develop when the release does.
            ways = [t for k in ctx.policy.kinds if k.name in kind.into and not k.protected
                    and target.name in k.into for t in k.tips_in(tips).values()]
            targets = target.tips_in(tips)
            if known and any(ctx.repo.is_ancestor(sha, t) for t in [*targets.values(), *ways]):
                continue
            into = next(iter(targets), target_name)
            if ctx.stage is Stage.CI:  # the deletion has landed: put the branch back first
                yield self.violation(
                    branch, f"{branch} was deleted before it reached {into}; a {kind.name} "
                    f"branch must be merged into {must} before it is "
                    f"deleted", f"git push {shell_word(remote)} "
                    f"{shell_word(f'{sha}:refs/heads/{branch}')}  # puts it back; merge it "
                    f"into {into}, then delete it")
                continue
            yield self.violation(
                branch, f"{branch} has not reached {into} yet; a {kind.name} branch must be "
                f"merged into {must} before it is deleted",
                f"git fetch {shell_word(remote)} && git switch {shell_word(into)} && "
                f"git merge --no-ff {shell_word(f'{remote}/{branch}')} && "
                f"git push {shell_word(remote)} {shell_word(into)}")


def _never_moved(sha: str, kind: BranchKind, tips: Mapping[str, str], ctx: Context) -> bool:
    """Whether `sha` is a commit of an origin branch's own first-parent line: the branch has
    no commit of its own beyond where it started (a merged-in tip is a second parent), so
    deleting it loses nothing."""
    commit = ctx.repo.commit(sha)
    if commit is None:
        return False
    starts = [t for name in kind.origins if (k := ctx.policy.kind(name)) is not None
              for t in k.tips_in(tips).values()]
    return any(ctx.repo.is_ancestor(sha, t)
               and sha in ctx.facts.history.first_parent_line(t, tuple(commit.parents))
               for t in starts)


RULE = BranchDelete()
