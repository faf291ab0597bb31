"""branch-name: every branch name matches one of the policy's branch kinds."""
from __future__ import annotations

from collections.abc import Iterator
from shlex import quote

from flowwarden.core.records import (
    BranchCreated,
    BranchQuery,
    CommitAttempt,
    Event,
    Push,
    Violation,
)
from flowwarden.core.stages import PUSH_STAGES, Stage
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import suggest_name


class BranchName(Rule):
    id = "branch-name"
    summary = "Every branch name matches one of the policy's branch kinds."
    stages = frozenset({Stage.PRE_COMMIT, Stage.POST_CHECKOUT, Stage.CHECK} | PUSH_STAGES)
    events = (CommitAttempt, BranchCreated, BranchQuery, Push)
    doc = """\
**What it does.** Checks that a branch's short name fully matches the `pattern` of one of the
policy's branch kinds (`main|master`, `develop`, `feature/...`, `experiment/...`,
`release/X.Y.Z`, `hotfix/...` in `gitflow-ml`).

**Why it matters.** Every other rule decides by kind: a branch no kind matches escapes the flow,
its merges cannot be judged, and teammates cannot tell what it is for.

**Example.** `git switch -c Login-Fix` then `git commit`:
`branch-name: Login-Fix matches no branch kind`.

**Fix.** Rename the branch: `git branch -m Login-Fix feature/login-fix`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        for branch in self._branches(event):
            if ctx.policy.kind_of(branch) is None:
                yield self.violation(
                    branch, f"{branch} matches no branch kind; expected one of: "
                    f"{ctx.policy.kinds_summary()}",
                    f"git branch -m {quote(branch)} {quote(suggest_name(branch, ctx.policy))}")

    @staticmethod
    def _branches(event: Event) -> list[str]:
        if isinstance(event, (CommitAttempt, BranchCreated, BranchQuery)):
            return [event.branch] if event.branch else []
        if isinstance(event, Push):
            return [u.branch for u in event.updates if u.branch and not u.is_delete]
        return []


RULE = BranchName()
