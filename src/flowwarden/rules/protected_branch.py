"""protected-branch: no direct commits on a protected branch."""
from __future__ import annotations

import shlex
from collections.abc import Iterator

from flowwarden.core.records import (
    CommitAttempt,
    Event,
    Violation,
)
from flowwarden.core.stages import Stage
from flowwarden.rules.base import Context, Rule


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
`git switch -c feature/my-topic`, then the same `git commit` again.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        assert isinstance(event, CommitAttempt)
        kind = ctx.policy.kind_of(event.branch)
        if kind is None or not kind.protected or event.merge_head or event.head is None:
            return
        child = next((k for k in ctx.policy.kinds if kind.name in k.origins and not k.protected),
                     None)
        new = shlex.quote(f"{child.name if child else 'feature'}/my-topic")
        yield self.violation(
            event.branch or "", f"{event.branch} is protected ({kind.name}): direct commits are "
            f"not allowed; commit on a {child.name if child else 'topic'} branch and merge it",
            f"git switch -c {new}  # your changes come along; then run your git commit again")


RULE = ProtectedBranch()
