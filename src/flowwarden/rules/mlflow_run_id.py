"""mlflow-run-id: commits on experiment branches cite their MLflow run in a trailer."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.adapters.git.messages import cited_values, misplaced
from flowwarden.adapters.mlflow import MODEL_ID, RUN_ID, Run, StoreUnreachable
from flowwarden.core.records import Event, Violation
from flowwarden.core.redact import redact
from flowwarden.core.stages import MESSAGE_STAGES
from flowwarden.facts.runs import Message, Scope
from flowwarden.policy.runs import RunSettings
from flowwarden.rules.base import Context
from flowwarden.rules.cited_runs import RunRule, trailer_fix


class MlflowRunId(RunRule):
    id = "mlflow-run-id"
    summary = "Commits on experiment branches cite their MLflow run in a trailer."
    doc = """\
**What it does.** Commits on the branch kinds listed in `runs.branches` (default:
`experiment`) must end with a trailer `MLflow-Run-Id: <run id>`: the key is `runs.trailer`,
the id is 32 lowercase hex digits, several trailers may cite several runs. With
`runs.require: every-commit` (the default) each commit needs one; with `one-per-branch`
at least one commit of the branch must cite a run by the time it is pushed or merged.
Merge commits and `fixup!`/`squash!` commits are exempt (`runs.exempt`). An MLflow 3
logged-model id (`m-...`) in the trailer is looked up and the run that logged it named.

**Why.** A model on `develop` must be traceable to the run that produced it; a run id
typed into the commit is the one link that survives rebases and server moves.

**Example.**
```
$ git commit -m "Try a wider encoder"
error: mlflow-run-id: the commit message on experiment/wide cites no run: expected a
    trailer 'MLflow-Run-Id: <32 hex digits>'
  fix: log the run this commit comes from to MLflow (from a checkout of experiment/wide),
    then commit again with a last-paragraph trailer 'MLflow-Run-Id: ' followed by its
    32-hex-digit id (git commit --trailer)
```

**Fix.** Add the trailer as the last paragraph of the message. The prepare-commit-msg
hook offers the runs started from the branch since its last commit. When the tracking
store knows runs of the branch that no commit cites, the fix names the newest (and the
details list all of them): the commit made again with the trailer, an amend of the tip,
or a rebase that stops at an older commit to amend it; a trailer that holds no run id is
dropped, not kept beside the new one. When no run is known the fix says so in words: log
the run, then cite it.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        cfg = ctx.policy.runs
        for scope in ctx.facts.runs.scopes(event):
            for msg in scope.checked:
                yield from self._malformed(ctx, msg, scope)
            yield from self._missing(cfg, scope, ctx)

    def _malformed(self, ctx: Context, msg: Message, scope: Scope) -> Iterator[Violation]:
        cfg = ctx.policy.runs
        for value in cited_values(msg.text, cfg.trailer):
            if MODEL_ID.fullmatch(value):
                yield self._model(ctx, msg, scope, value)
            elif not RUN_ID.fullmatch(value):
                hint = " (lowercase it)" if RUN_ID.fullmatch(value.lower()) else ""
                known = [] if hint else _candidates(ctx, scope, msg)
                yield self.violation(
                    msg.ref, f"{msg.where} cites '{cfg.trailer}: {value}', which is not a run "
                    f"id{hint}: expected 32 lowercase hex digits",
                    trailer_fix(cfg.trailer, msg, scope,
                                value.lower() if hint else known[0].id if known else None))

    def _model(self, ctx: Context, msg: Message, scope: Scope, model_id: str) -> Violation:
        """An MLflow 3 logged-model id in the trailer: name the run that logged it."""
        cfg = ctx.policy.runs
        lead = (f"{msg.where} cites '{cfg.trailer}: {model_id}', a logged model (MLflow 3), "
                "not a run")
        how = ("cite the run that logged it: its 'Source run' in the MLflow UI, or "
               f"mlflow.get_logged_model({model_id!r}).source_run_id")
        source = None
        if cfg.verify:
            try:
                source = ctx.facts.runs.model_run(model_id)
            except StoreUnreachable as error:
                how += f" (the tracking store cannot tell: {redact(str(error))})"
            else:
                if source is None:
                    how = f"{ctx.facts.runs.store_name()} has no such model; " + how
        if source is not None:
            return self.violation(msg.ref, f"{lead}: it was logged by run {source}; cite "
                                  "that run", trailer_fix(cfg.trailer, msg, scope, source))
        return self.violation(msg.ref, f"{lead}: {how}", trailer_fix(cfg.trailer, msg, scope))

    def _missing(self, cfg: RunSettings, scope: Scope, ctx: Context) -> Iterator[Violation]:
        def cites(msg: Message) -> bool:
            # A logged-model id is reported by _malformed with the run to cite instead.
            return any(RUN_ID.fullmatch(v) or MODEL_ID.fullmatch(v)
                       for v in cited_values(msg.text, cfg.trailer))

        if cfg.require == "one-per-branch":
            # At commit time the branch may still cite a run later; it must before it leaves.
            if ctx.stage not in MESSAGE_STAGES and scope.whole \
                    and not any(map(cites, scope.whole)):
                runs = _candidates(ctx, scope, None)
                yield self.violation(
                    scope.branch, f"no commit of {scope.branch} cites an MLflow run: expected "
                    f"at least one '{cfg.trailer}: <run id>' trailer ({len(scope.whole)} "
                    "commits checked)",
                    f'git commit --allow-empty -m "Record run" --trailer "{cfg.trailer}: '
                    f'{runs[0].id}"' if runs else "log a run of the branch to MLflow, then "
                    "record it with an empty commit (git commit --allow-empty) whose message "
                    f"ends in the trailer '{cfg.trailer}: ' followed by its 32-hex-digit id",
                    _listed(scope.branch, runs))
            return
        known: list[Run] | None = None  # asked of the store once per branch, when needed
        for msg in scope.checked:
            if msg.is_exempt(cfg.exempt) or cites(msg):
                continue
            found = (f"; a '{cfg.trailer}:' line is there but not in the last paragraph"
                     if misplaced(msg.text, cfg.trailer) else "")
            if known is None:
                known = _candidates(ctx, scope, msg)
            yield self.violation(
                msg.ref, f"{msg.where} cites no run: expected a trailer "
                f"'{cfg.trailer}: <32 hex digits>'{found}",
                trailer_fix(cfg.trailer, msg, scope, known[0].id if known else None),
                _listed(scope.branch, known))


def _candidates(ctx: Context, scope: Scope, msg: Message | None) -> list[Run]:
    """The branch's runs the message could cite, newest first: tagged with the branch,
    finished as `runs.statuses` wants, cited by none of its commits (for the commit being
    made, started since the last commit, as prepare-commit-msg offers them). Empty when the
    store is not asked (`runs.verify: false`) or cannot answer."""
    cfg = ctx.policy.runs
    if not cfg.verify:
        return []
    runs = ctx.facts.runs
    try:
        if msg is not None and msg.sha is None:
            found = [r for r in runs.runs_since_last_commit() if r.branch == scope.branch]
        else:
            found = runs.store().search_runs(scope.branch, None)
    except StoreUnreachable:
        return []
    cited = {v for m in scope.whole for v in cited_values(m.text, cfg.trailer)}
    return sorted((r for r in found if r.status in cfg.statuses and not r.deleted
                   and r.parent is None and r.id not in cited),
                  key=lambda r: r.start_time or 0, reverse=True)


def _listed(branch: str, runs: list[Run]) -> tuple[str, ...]:
    if len(runs) < 2:
        return ()
    names = ", ".join(f"{r.id}{f' ({r.name})' if r.name else ''}" for r in runs)
    return (f"{len(runs)} runs of {branch} could be cited: {names}; the fix cites the newest, "
            "add one trailer for each run this commit produced",)


RULE = MlflowRunId()
