"""mlflow-run-status: cited MLflow runs have finished successfully."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.core.records import Event, Violation
from flowwarden.rules.base import Context
from flowwarden.rules.cited_runs import RunRule, verified


class MlflowRunStatus(RunRule):
    id = "mlflow-run-status"
    summary = "Cited MLflow runs have finished successfully."
    doc = """\
**What it does.** With `runs.verify: true`, each cited run's status must be one of
`runs.statuses` (default: `FINISHED`); `RUNNING`, `FAILED`, `KILLED` and `SCHEDULED` runs
are reported.

**Why.** A failed or unfinished run proves nothing about the code that cites it.

**Example.**
```
error: mlflow-run-status: run a432c29fe9914a7eb8d501101ac64ca1 (brave-owl-12) cited by the
    commit message on experiment/wide is FAILED, expected FINISHED
  fix: re-run the experiment to completion, then reword commit 3f2a9c1d0e so its
    MLflow-Run-Id trailer cites the new run (git rebase -i 3f2a9c1d0e^, mark it 'reword'),
    and push the rewritten branch
```

**Fix.** Cite a run that finished, or wait for the running one and commit again.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        cfg = ctx.policy.runs
        if not cfg.verify:
            return
        for item in verified(self, event, ctx, "check the status of run"):
            if isinstance(item, Violation):
                yield item
                continue
            msg, run_id, run = item
            if run is not None and not run.deleted and run.status not in cfg.statuses:
                label = f" ({run.name})" if run.name else ""
                yield self.violation(
                    msg.ref, f"run {run_id}{label} cited by {msg.where} is {run.status}, "
                    f"expected {' or '.join(cfg.statuses)}",
                    _reword_fix(msg.sha, cfg.trailer))


def _reword_fix(sha: str | None, trailer: str) -> str:
    """A new commit never helps: the message that cites the run has to change."""
    if sha is None:
        return (f"re-run the experiment to completion and put the new run's id in this "
                f"message's {trailer} trailer")
    return (f"re-run the experiment to completion, then reword commit {sha[:10]} so its "
            f"{trailer} trailer cites the new run (git rebase -i {sha[:10]}^, mark it "
            f"'reword'), and push the rewritten branch")


RULE = MlflowRunStatus()
