"""protected-branch: no direct commits on a protected branch, and none created from
unreviewed work."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.core.records import (
    CommitAttempt,
    Event,
    Push,
    RefUpdate,
    Violation,
)
from flowwarden.core.stages import PUSH_STAGES, Stage
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import free_name, shell_word


class ProtectedBranch(Rule):
    id = "protected-branch"
    summary = "No direct commits on a protected branch; a new one starts from reviewed history."
    stages = frozenset({Stage.PRE_COMMIT} | PUSH_STAGES)
    events = (CommitAttempt, Push)
    doc = """\
**What it does.** Refuses `git commit` on a branch of a protected kind (`main`/`master` and
`develop` in `gitflow-ml`) unless a merge is being concluded. The first commit of a new
repository (unborn branch) is allowed. A push that creates a protected branch must create it
at a commit that a branch of an allowed kind (its `from:` kinds, or its own kind) already
holds: `git push origin feature/f:refs/heads/master` would make unreviewed work a second
production branch. The first protected branch of a repository may start anywhere.

**Why it matters.** Protected branches change only through reviewed merges, so every change
on them has a branch, a review and a test run behind it.

**Example.** On develop: `git commit -m "tweak lr"`:
`protected-branch: develop is protected; commit on a feature branch and merge it`.

**Fix.** Take the staged change to a new branch and commit there:
`git switch -c feature/my-topic`, then the same `git commit` again.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if isinstance(event, Push):
            for update in event.updates:
                yield from self._created(update, event, ctx)
            return
        assert isinstance(event, CommitAttempt)
        kind = ctx.policy.kind_of(event.branch)
        if kind is None or not kind.protected or event.merge_head or event.head is None:
            return
        child = next((k for k in ctx.policy.kinds if kind.name in k.origins and not k.protected),
                     None)
        new = free_name(f"{child.name if child else 'feature'}/my-topic",
                        ctx.repo.local_branches())
        yield self.violation(
            event.branch or "", f"{event.branch} is protected ({kind.name}): direct commits are "
            f"not allowed; commit on a {child.name if child else 'topic'} branch and merge it",
            f"git switch -c {shell_word(new)}  # your changes come along; then run your git "
            "commit again")

    def _created(self, update: RefUpdate, push: Push, ctx: Context) -> Iterator[Violation]:
        branch = update.branch
        kind = ctx.policy.kind_of(branch)
        if branch is None or not update.is_create or kind is None or not kind.protected:
            return
        allowed = [k for k in ctx.policy.kinds if k.name in kind.origins or k is kind]
        before = ctx.facts.history.tips_before(push)
        holders = {name: sha for k in allowed for name, sha in k.tips_in(before).items()}
        if not holders or any(sha == update.new or ctx.repo.is_ancestor(update.new, sha)
                              for sha in holders.values()):
            return
        holder = sorted(holders)[0]
        remote = shell_word(push.remote or "origin")
        kinds = " or ".join(k.name for k in allowed)
        yield self.violation(
            branch, f"{branch} would be a new {kind.name} branch at {update.new[:12]}, which no "
            f"{kinds} branch holds ({', '.join(sorted(holders))}): a protected branch starts "
            "only from reviewed history",
            f"git fetch {remote} && git push {remote} "
            f"{shell_word(f'{holders[holder]}:refs/heads/{branch}')}", commits=(update.new,))


RULE = ProtectedBranch()
