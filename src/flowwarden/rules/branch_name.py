"""branch-name: every branch name matches one of the policy's branch kinds."""
from __future__ import annotations

from collections.abc import Iterator

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
from flowwarden.rules.fixes import shell_word, suggest_name


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

**Fix.** Rename the branch: `git branch -m Login-Fix feature/login-fix`; at a push, push it
under the new name: `... && git push origin feature/login-fix` (in CI, where the push has
landed, then delete the old name: `git push origin --delete Login-Fix`).
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        for branch, local in self._branches(event):
            if ctx.policy.kind_of(branch) is None:
                yield self.violation(
                    branch, f"{branch} matches no branch kind; expected one of: "
                    f"{ctx.policy.kinds_summary()}", self._fix(branch, local, event, ctx))

    @staticmethod
    def _fix(branch: str, local: str, event: Event, ctx: Context) -> str:
        new = shell_word(suggest_name(branch, ctx.policy))
        rename = f"git branch -m {shell_word(local)} {new}"
        if not isinstance(event, Push):
            return rename
        remote = shell_word(event.remote or "origin")
        fix = f"{rename} && git push {remote} {new}"
        if local != branch:  # pushed under another name: push it under a legal one
            fix = f"git push {remote} {shell_word(f'{local}:refs/heads/')}{new}"
        if ctx.stage is Stage.CI:  # the push has landed: the old name is on the server
            fix += f" && git push {remote} --delete {shell_word(branch)}"
        return fix

    @staticmethod
    def _branches(event: Event) -> list[tuple[str, str]]:
        """(the branch judged, the local branch that holds it)."""
        if isinstance(event, (CommitAttempt, BranchCreated, BranchQuery)):
            return [(event.branch, event.branch)] if event.branch else []
        if isinstance(event, Push):
            return [(u.branch, _local(u.local_ref) or u.branch) for u in event.updates
                    if u.branch and not u.is_delete]
        return []


def _local(ref: str | None) -> str | None:
    return ref.removeprefix("refs/heads/") if ref and ref.startswith("refs/heads/") else None


RULE = BranchName()
