"""mlflow-run-unknown: cited MLflow runs exist in the tracking store and are not deleted."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.core.records import Event, Violation
from flowwarden.core.redact import redact
from flowwarden.facts.runs import Message
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
A run that is only in a local store of the work tree (`mlflow.db`, `./mlruns`: the team
moved to a shared server after it was logged) is named with that store, and the fix says
how out: log the run again to the shared server and reword each commit named (the details
list them all) so it cites the new run.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if not ctx.policy.runs.verify:
            return
        name = ctx.facts.runs.store_name()
        unknown: list[tuple[Message, str, str | None]] = []  # (message, run, local store)
        for item in verified(self, event, ctx, "verify run"):
            if isinstance(item, Violation):
                yield item
                continue
            msg, run_id, run = item
            if run is None:
                unknown.append((msg, run_id, _local_store(ctx, run_id)))
            elif run.deleted:
                yield self.violation(
                    msg.ref, f"run {run_id} cited by {msg.where} was deleted from {name}",
                    _restore(ctx, run_id))
        local = [(m, r, s) for m, r, s in unknown if s is not None and m.sha is not None]
        listed = (f"{len(local)} commits cite runs only in a local store: " + ", ".join(
            f"{m.sha[:10]} ({r} in {s})" for m, r, s in local if m.sha),) if len(local) > 1 else ()
        for msg, run_id, store in unknown:
            if store is None:
                yield self.violation(
                    msg.ref, f"run {run_id} cited by {msg.where} not found in {name}",
                    f"cite a run logged to {name} (check runs.tracking_uri / MLFLOW_TRACKING_URI)")
                continue
            yield self.violation(
                msg.ref, f"run {run_id} cited by {msg.where} is in the local store {store}, "
                f"not in {name}, the store {_setting(ctx)} names",
                _moved(ctx, msg, run_id, store, name), listed)


def _local_store(ctx: Context, run_id: str) -> str | None:
    """The MLflow store in this work tree (`mlflow.db`, `mlruns/`) other than the checked
    one that holds `run_id`, as a URI; None when none does or there is no work tree."""
    root = ctx.repo.root
    if root is None:
        return None
    from flowwarden.adapters.mlflow import StoreUnreachable
    from flowwarden.adapters.mlflow.store import found_stores, open_store

    checked = ctx.facts.runs.uri()
    for found in found_stores(root):
        uri = f"sqlite:///{found}" if found.endswith(".db") else f"./{found.rstrip('/')}"
        if uri == checked or (root / found).resolve().as_posix() in (checked or ""):
            continue
        try:
            if open_store(uri, ctx.env, root, ctx.policy.runs.timeout).get_run(run_id):
                return uri
        except StoreUnreachable:
            continue
    return None


def _setting(ctx: Context) -> str:
    return ("runs.tracking_uri" if ctx.policy.runs.tracking_uri else "MLFLOW_TRACKING_URI"
            if ctx.env.get("MLFLOW_TRACKING_URI") else "MLflow's default")


def _moved(ctx: Context, msg: Message, run_id: str, store: str, name: str) -> str:
    """Words: log the run again where the team's store is, then cite that run instead."""
    key = ctx.policy.runs.trailer
    relog = (f"log the run again to {name} (train with MLFLOW_TRACKING_URI={name}, as "
             f"{_setting(ctx)} names it: run {run_id} exists only in {store})")
    if msg.sha is None:
        return f"{relog}, then put the new run's id in this message's {key} trailer"
    short = msg.sha[:10]
    return (f"{relog}, then reword commit {short} so its {key} trailer cites the new run "
            f"(git rebase -i {short}^, mark it 'edit', git -c trailer.ifexists=replace "
            f"commit --amend --no-edit --trailer, git rebase --continue), and push again")


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
