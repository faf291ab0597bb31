"""mlflow-run-provenance: a cited run was started from a commit in the citing commit's history."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.adapters.mlflow import COMMIT_TAG
from flowwarden.core.records import Event, Severity, Violation
from flowwarden.rules.base import Context
from flowwarden.rules.cited_runs import RunRule, verified


class MlflowRunProvenance(RunRule):
    id = "mlflow-run-provenance"
    summary = "A cited run was started from a commit in the citing commit's history."
    default_severity = Severity.OFF
    doc = """\
**What it does.** Off by default (`rules: {mlflow-run-provenance: {severity: error}}`).
Each cited run's `mlflow.source.git.commit` tag must name a commit in the history of the
commit that cites it (for the commit being made: `HEAD` or one of its ancestors).

**Why.** It proves the run was made from this code, not from a colleague's branch or an
uncommitted experiment elsewhere.

**Example.**
```
error: mlflow-run-provenance: run 947e6cccec7e4215b915711be1939de2 cited by the commit
    message on experiment/wide was started from 1a2b3c4d5e, which is not in the history
    of 9f8e7d6c5b
  fix: re-run the training from a checkout of experiment/wide (MLflow tags the run with
    the commit it ran from) and cite the new run
```

**Fix.** Run the experiment from a checkout of the branch (MLflow records the commit when
the script runs inside the git work tree) and cite that run.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if ctx.policy.severity(self.id, self.default_severity) is Severity.OFF:
            return  # off unless the policy turns it on: it costs a git call per run
        for item in verified(self, event, ctx, "check the provenance of run"):
            if isinstance(item, Violation):
                yield item
                continue
            msg, run_id, run = item
            if run is None or run.deleted:
                continue
            head = ctx.facts.runs.citing_commit(msg)
            origin = run.tags.get(COMMIT_TAG)
            fix = (f"re-run the training from a checkout of {msg.branch} (MLflow tags the run "
                   "with the commit it ran from) and cite the new run")
            if not origin:
                yield self.violation(msg.ref, f"run {run_id} cited by {msg.where} has no "
                                     f"{COMMIT_TAG} tag: cannot tell which code produced it",
                                     fix)
            elif head is None or not ctx.facts.runs.in_history(origin, head):
                yield self.violation(
                    msg.ref, f"run {run_id} cited by {msg.where} was started from "
                    f"{origin[:10]}, which is not in "
                    f"the history of {(head or 'an unborn branch')[:10]}", fix)


RULE = MlflowRunProvenance()
