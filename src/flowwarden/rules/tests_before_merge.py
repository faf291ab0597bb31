"""tests-before-merge: the policy's check commands pass before a merge into their targets."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.adapters.checks import CheckResult
from flowwarden.core.records import CommitAttempt, Event, MergeAttempt, Push, Violation
from flowwarden.core.stages import Stage
from flowwarden.rules.base import CommandRule, Context
from flowwarden.rules.fixes import shell_word

RULE_ID = "tests-before-merge"


class TestsBeforeMerge(CommandRule):
    """Judges the check results fact: a check that fails, cannot start or times out."""

    id = RULE_ID
    summary = "The policy's check commands pass before a merge into their target branches."
    stages = frozenset({Stage.PRE_MERGE_COMMIT, Stage.PRE_COMMIT, Stage.PRE_PUSH, Stage.CI})
    events = (MergeAttempt, CommitAttempt, Push)
    doc = """\
**What it does.** Runs the commands listed under `checks:` whose `before_merge_into` names the
merge's target (a branch or a branch kind): at pre-merge-commit, when a conflicted merge is
concluded, at pre-push to that target, and with `flowwarden ci --run-checks`. Output is
streamed and each check's duration shown; a command that fails, cannot start or times out is
a violation. The checks do not run when the merge is refused anyway, or when
`FLOWWARDEN_SKIP` skips this rule (a note says so).

**Why it matters.** The flow promises that develop and main only receive tested work; a
merge that skips the tests is how a broken training script reaches a release.

**Example.** `checks: [{name: unit tests, run: [pytest, -q], before_merge_into: [develop]}]`,
then `git merge --no-ff feature/x` on develop with a failing test:
`tests-before-merge: check 'unit tests' (pytest -q) exited 1 after 4.2 s; it must pass
before merging into develop`.

**Fix.** Run the command, make it pass, merge again: `pytest -q`.
"""

    def applies(self, event: Event, stage: Stage) -> bool:
        if isinstance(event, Push):  # in CI a push is the source branch arriving, no merge
            return stage is Stage.PRE_PUSH
        if isinstance(event, CommitAttempt):  # only `git commit` concluding a merge
            return stage is Stage.PRE_COMMIT and event.merge_head is not None
        return super().applies(event, stage)

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        for target, tip in _targets(event):
            for result in ctx.facts.checks.before_merge(target, tip).failed:
                yield self._failure(result, target)

    def planned(self, event: Event, ctx: Context) -> tuple[str, ...]:
        return tuple(f"check '{c.name}' before merging into {target}"
                     for target, _ in _targets(event)
                     for c in ctx.facts.checks.planned(target))

    def notes(self, event: Event, ctx: Context) -> tuple[str, ...]:
        runs = (ctx.facts.checks.before_merge(target, tip) for target, tip in _targets(event))
        return tuple(run.not_run for run in runs if run.not_run)

    def _failure(self, result: CheckResult, target: str) -> Violation:
        check = result.check
        what = result.problem or f"exited {result.code}"
        return self.violation(
            check.name,
            f"check '{check.name}' ({check.command}) {what} after {result.seconds:.1f} s; "
            f"it must pass before merging into {target}",
            f"{' '.join(shell_word(a) for a in check.argv)}  # make it pass, then merge again")


def _targets(event: Event) -> list[tuple[str, str | None]]:
    """(target branch, the commit the checks must test, None: the work tree as it is)."""
    if isinstance(event, MergeAttempt):
        return [(event.target, None)]
    if isinstance(event, CommitAttempt):
        return [(event.branch, None)] if event.branch else []
    if isinstance(event, Push):
        return [(u.branch, u.new) for u in event.updates if u.branch and not u.is_delete]
    return []


RULE = TestsBeforeMerge()
