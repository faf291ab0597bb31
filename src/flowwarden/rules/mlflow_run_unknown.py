"""mlflow-run-unknown: cited MLflow runs exist in the tracking store and are not deleted."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.core.records import Event, Violation
from flowwarden.core.redact import redact
from flowwarden.rules.base import Context
from flowwarden.rules.cited_runs import RunRule, verified
from flowwarden.rules.fixes import shell_word


class MlflowRunUnknown(RunRule):
    id = "mlflow-run-unknown"
    summary = "Cited MLflow runs exist in the tracking store and are not deleted."
    doc = """\
**What it does.** With `runs.verify: true` (the default), each run a commit cites is looked
up in the tracking store (`runs.tracking_uri`, else `MLFLOW_TRACKING_URI`, else MLflow 3's
defaults): an MLflow server over its REST API, DagsHub
(`https://dagshub.com/<owner>/<repo>.mlflow`), Databricks (`databricks[://profile]`), a
`sqlite:///` database or a `./mlruns` directory. A run that does not exist or was deleted is
reported; only MLflow's own "does not exist" answer means not found. When the store cannot be
reached or does not answer as MLflow (an HTML 404 from a wrong path) the rule says so: a
warning at commit time, an error at merge, push and CI (`runs.on_unreachable`).

**Why.** A typo in a run id, or a run id from a colleague's laptop store, links the commit
to nothing.

**Example.**
```
error: mlflow-run-unknown: run 0123456789abcdef0123456789abcdef cited by the commit message
    on experiment/wide not found in http://127.0.0.1:5000
  fix: cite a run logged to http://127.0.0.1:5000 (check runs.tracking_uri /
    MLFLOW_TRACKING_URI)
warning: mlflow-run-unknown: cannot verify run 0123456789abcdef0123456789abcdef:
    http://127.0.0.1:5000 did not answer: [Errno 111] Connection refused
    (on_unreachable.commit: warn)
```

**Fix.** Copy the id from the MLflow UI or `mlflow runs list`, or point the tracking URI
at the team's server; restore a deleted run with `mlflow runs restore --run-id <id>`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if not ctx.policy.runs.verify:
            return
        for item in verified(self, event, ctx, "verify run"):
            if isinstance(item, Violation):
                yield item
                continue
            msg, run_id, run = item
            name = ctx.facts.runs.store_name()
            if run is None:
                yield self.violation(
                    msg.ref, f"run {run_id} cited by {msg.where} not found in {name}",
                    f"cite a run logged to {name} (check runs.tracking_uri / MLFLOW_TRACKING_URI)")
            elif run.deleted:
                yield self.violation(
                    msg.ref, f"run {run_id} cited by {msg.where} was deleted from {name}",
                    _restore(ctx, run_id))


def _restore(ctx: Context, run_id: str) -> str:
    """`mlflow runs restore` against the policy's store; words when its URI holds a secret,
    which is never printed."""
    uri = ctx.facts.runs.uri()
    if uri is None or redact(uri) != uri:
        return (f"restore run {run_id} (mlflow runs restore --run-id {run_id}, with "
                "MLFLOW_TRACKING_URI naming the store), or cite another run")
    return (f"env MLFLOW_TRACKING_URI={shell_word(uri)} mlflow runs restore --run-id {run_id}"
            "  # or cite another run")


RULE = MlflowRunUnknown()
