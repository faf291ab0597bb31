"""mlflow-metric-gate: an experiment merges into develop only with a cited run meeting the gate."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.adapters.mlflow import StoreUnreachable
from flowwarden.core.records import (
    CommitAttempt,
    Event,
    MergeAttempt,
    Push,
    RefUpdate,
    Violation,
)
from flowwarden.core.stages import CONCLUDED_MERGE_STAGES, MERGE_STAGES, PUSH_STAGES
from flowwarden.facts.runs import Message, citations
from flowwarden.policy.runs import RunSettings
from flowwarden.rules.base import Context
from flowwarden.rules.cited_runs import Judgement, RunRule, best_child, gate_fix, judge, unreachable

# source, target, the source's commits, the merge commit when it is already made (a push)
Merge = tuple[str, str, tuple[Message, ...], str | None]


class MlflowMetricGate(RunRule):
    id = "mlflow-metric-gate"
    summary = "An experiment merges into develop only with a cited run that meets the gates."
    stages = MERGE_STAGES | CONCLUDED_MERGE_STAGES | PUSH_STAGES
    events = (CommitAttempt, MergeAttempt, Push)
    doc = """\
**What it does.** When a branch of a `runs.branches` kind merges into a kind listed in
`runs.gate_into` (default: `develop`) — at pre-merge-commit, when a conflicted merge is
concluded, at pre-push and pre-receive of the target, and in CI — at least one run cited
on the branch must have a passing status and meet every threshold in `runs.metrics`
(`val_accuracy: ">= 0.90"`; operators `>= > <= < == !=`), carry every param in
`runs.params` and every tag in `runs.tags` (a list: must be present; a mapping: must have
that value). A param's threshold (`lr: "<= 0.01"`) or number (`lr: 0.001`) compares
numerically. Metrics are each run's latest value (the highest step), and the message says
which step. A cited sweep parent (its trials are child runs, tagged `mlflow.parentRunId`)
that does not meet the gate itself is judged by its best child, named in the message.
Nothing is gated when no thresholds, params or tags are set.

**Why.** `develop` is what the next release ships; an experiment reaches it only with
evidence that it worked.

**Example.**
```
$ git switch develop && git merge --no-ff experiment/wide
error: mlflow-metric-gate: experiment/wide may merge into develop only with a cited run
    that meets the gate: run e3db954babba4d19b65efca9c1111c46 (wide-1) val_accuracy 0.85
    (latest, step 9; needs >= 0.90), val_loss 0.35 (latest, step 9; needs < 0.4, ok)
  fix: improve the model until a run meets the gate, then abort this merge (git merge
    --abort), cite that run on experiment/wide with an empty commit whose message ends
    in the trailer 'MLflow-Run-Id: <run id>', and merge again
```

**Fix.** Train until a run meets the thresholds, cite it on the branch (an empty commit
with the trailer is enough), and merge again. When the branch already has a run that meets
the gate and cites it nowhere, the fix is the command that cites it and merges again. A
cited run that did not finish can never pass: the commit that cites it is named, to be
reworded; a merge already made (found at push) is undone first.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        cfg = ctx.policy.runs
        if not cfg.has_gate:
            return
        for source, target, messages, made in self._merges(event, ctx, cfg):
            yield from self._gate(ctx, cfg, source, target, messages, made)

    def _merges(self, event: Event, ctx: Context, cfg: RunSettings) -> Iterator[Merge]:
        """(source, target, the source's commits) for each gated merge the event makes."""
        runs = ctx.facts.runs
        merge = runs.merge(event)
        if merge is not None:
            if runs.kind_name(merge.target) in cfg.gate_into:
                for scope in runs.scopes(event):
                    yield scope.branch, merge.target, scope.whole, None
        elif isinstance(event, Push):
            for update in event.updates:
                target = update.branch
                if target and not update.is_delete and runs.kind_name(target) in cfg.gate_into:
                    yield from self._pushed_merges(ctx, cfg, update, event, target)

    def _pushed_merges(self, ctx: Context, cfg: RunSettings, update: RefUpdate, push: Push,
                       target: str) -> Iterator[Merge]:
        # A push to develop brings merges: each merge's second parent side is one branch.
        runs = ctx.facts.runs
        covered: set[str] = set()
        pushed = ctx.facts.history.new_commits(update, push)
        for commit in pushed:
            if not commit.is_merge:
                continue
            source = runs.merge_source(commit)
            side = runs.merged_side(commit.parents)
            covered.update(c.sha for c in side)
            messages = tuple(Message(source or target, c.sha, c.message, c.is_merge)
                             for c in side)
            if runs.kind_name(source) in cfg.kinds or citations(messages, cfg.trailer):
                yield source or f"the merge {commit.sha[:10]}", target, messages, commit.sha
        # Commits that reach develop without a merge commit (a fast-forward) but cite runs.
        direct = tuple(Message(target, c.sha, c.message, c.is_merge)
                       for c in pushed if c.sha not in covered and not c.is_merge)
        if citations(direct, cfg.trailer):
            yield f"commits pushed to {target}", target, direct, None

    def _gate(self, ctx: Context, cfg: RunSettings, source: str, target: str,
              messages: tuple[Message, ...], made: str | None) -> Iterator[Violation]:
        cited = citations(messages, cfg.trailer)
        if not cited:
            yield self.violation(source, f"{source} cites no MLflow run, so nothing shows it "
                                 f"meets the gate for {target}: {cfg.gate_text()}",
                                 gate_fix(ctx, source, target, messages, [], made))
            return
        reports = []
        for _msg, run_id in cited:
            try:
                failures, report = self._judge_with_sweep(ctx, cfg, run_id)
            except StoreUnreachable as error:
                yield from unreachable(self, ctx, error, f"check the gate for {target}")
                return
            if not failures:
                return
            reports.append(report)
        # a run that did not finish (or is gone) can never pass: its citing commit is reworded
        dead = [m for m, run_id in cited if (run := ctx.facts.runs.lookup(run_id)) is None
                or run.deleted or run.status not in cfg.statuses]
        yield self.violation(
            source, f"{source} may merge into {target} only with a cited run that meets the "
            f"gate: {reports[0]}", gate_fix(ctx, source, target, messages, dead, made),
            details=tuple(reports[1:]))

    @staticmethod
    def _judge_with_sweep(ctx: Context, cfg: RunSettings, run_id: str) -> Judgement:
        """The run's own verdict; a sweep's parent that misses it is judged by its best child.

        Optuna, Hyperopt and autologging log the trials' metrics on child runs: citing the
        parent cites the sweep, and the sweep is as good as its best trial.
        """
        run = ctx.facts.runs.lookup(run_id)
        verdict = judge(cfg, run_id, run)
        if not verdict.failures or run is None or run.deleted or run.parent is not None:
            return verdict
        children = ctx.facts.runs.children(run_id)
        best = best_child(cfg, children)
        if best is None:
            return verdict
        child, child_verdict = best
        if not child_verdict.failures:
            return child_verdict  # the sweep met the gate through this trial
        return Judgement(verdict.failures, f"{verdict.report}; it is the parent of a sweep of "
                         f"{len(children)} child runs, none meets the gate, the best is "
                         f"{child_verdict.report}")


RULE = MlflowMetricGate()
