"""tests-before-merge: the policy's check commands pass before a merge into their targets."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.core.records import Event, Violation
from flowwarden.core.stages import Stage
from flowwarden.rules.base import Context, Rule

RULE_ID = "tests-before-merge"


class TestsBeforeMerge(Rule):
    """Registered for its id, doc and settings; the merge stages run the checks themselves,
    because running commands and streaming their output is not a pure check."""

    id = RULE_ID
    summary = "The policy's check commands pass before a merge into their target branches."
    stages = frozenset({Stage.PRE_MERGE_COMMIT, Stage.PRE_COMMIT, Stage.PRE_PUSH, Stage.CI})
    events = ()
    doc = """\
**What it does.** Runs the commands listed under `checks:` whose `before_merge_into` names the
merge's target (a branch or a branch kind): at pre-merge-commit, when a conflicted merge is
concluded, at pre-push to that target, and with `flowwarden ci --run-checks`. Output is
streamed and each check's duration shown; a command that fails, cannot start or times out is
a violation.

**Why it matters.** The flow promises that develop and main only receive tested work; a
merge that skips the tests is how a broken training script reaches a release.

**Example.** `checks: [{name: unit tests, run: [pytest, -q], before_merge_into: [develop]}]`,
then `git merge --no-ff feature/x` on develop with a failing test:
`tests-before-merge: check 'unit tests' (pytest -q) exited 1 after 4.2 s; it must pass
before merging into develop`.

**Fix.** Run the command, make it pass, merge again: `pytest -q`.
"""

    def applies(self, event: Event, stage: Stage) -> bool:
        return False  # the stages call run_before_merge: it needs the target and an output

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        return iter(())


RULE = TestsBeforeMerge()
