"""force-push: no non-fast-forward update of a protected branch."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.adapters.git.plumbing import rewrites
from flowwarden.core.records import (
    Event,
    Push,
    RefUpdate,
    Violation,
)
from flowwarden.core.stages import PUSH_STAGES, Stage
from flowwarden.policy.model import BranchKind
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import shell_word


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

**Fix.** Keep the published history. When you rewrote published commits yourself (an
amended merge, a rebased main: the new commits keep the old ones' author and date), put
the branch back at the published tip and bring the change on top, through a branch of a
kind the protected branch accepts: `git switch main && git reset --keep <published tip>`
when the rewrite changed no file, else the same reset after carrying the change to a
`hotfix/rewrite-<sha>` branch, merged with `--no-ff`. When someone else pushed, integrate
their work: `git pull --no-rebase origin main && git push origin main` (`--rebase` where the
kind accepts rebased commits; a rebase of merges would flatten or rewrite them); with no
commit of your own, `git pull --ff-only origin main`. A push without `--force` (or a `+`
refspec) cannot overwrite anything: git itself rejects it, and this rule stays silent.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        assert isinstance(event, Push)
        remote = event.remote or "origin"
        for update in event.updates:
            kind = ctx.policy.kind_of(update.branch)
            if kind is None or not kind.protected or update.is_create or update.is_delete:
                continue
            if update.old == update.new or event.forced is False:
                continue  # an unforced push cannot overwrite: git or the server rejects it
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
                f"non-fast-forward update {what}", _fix(update, kind, remote, ctx))


def _fix(update: RefUpdate, kind: BranchKind, remote: str, ctx: Context) -> str:
    """Integrate someone else's push; undo one's own rewrite of published commits."""
    branch, old = update.branch or "", update.old
    local = update.local_ref.removeprefix("refs/heads/") \
        if update.local_ref and update.local_ref.startswith("refs/heads/") else branch
    to = shell_word(remote)
    there = shell_word(branch) if local == branch else shell_word(f"{local}:{branch}")
    if ctx.stage is Stage.CI:  # the push has landed: only a maintainer can put it back
        return (f"have a maintainer put {shell_word(branch)} back at {old[:12]} (git push "
                f"--force-with-lease={shell_word(f'{branch}:{update.new}')} {to} "
                f"{shell_word(f'{old}:refs/heads/{branch}')}), then push your change "
                "without --force")
    if _behind_only(update, remote, ctx):  # nothing of one's own to push
        return (f"git switch {shell_word(local)} && git pull --ff-only {to} "
                f"{shell_word(branch)}  # takes what others pushed; nothing of yours to push")
    if not ctx.repo.has_object(old) or not rewrites(ctx.repo, old, update.new):
        how = "--rebase" if "rebase" in kind.merge_methods else "--no-rebase"
        return (f"git switch {shell_word(local)} && git pull {how} {to} {shell_word(branch)} && "
                f"git push {to} {there}  # without --force: keeps "
                "what others pushed")
    back = f"git switch {shell_word(local)} && git reset --keep {old[:12]}"
    if ctx.repo.git_ok("diff-tree", "--quiet", old, update.new):
        return f"{back}  # your rewrite changed no file: the published history stands"
    child = next((k.name for k in ctx.policy.kinds if kind.name in k.origins
                  and not k.protected), "feature")
    carrier = shell_word(f"{child}/rewrite-{old[:7]}")
    return (f"git switch {shell_word(local)} && git switch -c {carrier} && "
            f"git reset --soft {old[:12]} && git commit -C ORIG_HEAD && {back} && "
            f"git merge --no-ff {carrier} && git push {to} {carrier} {there}  # your change, "
            "on top of the published history")


def _behind_only(update: RefUpdate, remote: str, ctx: Context) -> bool:
    """Whether the pushed tip has no commit the remote lacks: it holds the remote's tip, or
    (that tip never fetched) the last fetched one."""
    held = update.old if ctx.repo.has_object(update.old) \
        else ctx.repo.remote_branches(remote).get(update.branch or "")
    return held is not None and ctx.repo.is_ancestor(update.new, held)


RULE = ForcePush()
