"""Run rules: experiment commits cite MLflow runs, and only successful runs merge.

The policy's `runs:` section says which branch kinds cite runs, with which trailer, and
what a run must show before its branch merges. The tracking store is read through
`flowwarden.adapters.mlflow`, once per run id per invocation.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from flowwarden.adapters.git import Commit
from flowwarden.adapters.git.messages import (
    cited_values,
    message_text,
    misplaced,
    parse_merge_message,
    strip_remote,
)
from flowwarden.adapters.mlflow import (
    COMMIT_TAG,
    DEFAULT_TIMEOUT,
    RUN_ID,
    Run,
    StoreUnreachable,
    TrackingStore,
    open_store,
    redact,
    resolve_uri,
)
from flowwarden.core.records import (
    CommitAttempt,
    CommitMessage,
    Event,
    MergeAttempt,
    Push,
    RefUpdate,
    Severity,
    Violation,
)
from flowwarden.core.stages import Stage
from flowwarden.rules.base import Context, Rule

GATE = re.compile(r"\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
                  r"(?:[eE][-+]?[0-9]+)?)\s*")
FIXUP_PREFIXES = ("fixup! ", "squash! ")

# Which `on_unreachable` entry applies at each stage.
CONTEXT_OF_STAGE = {
    Stage.COMMIT_MSG: "commit", Stage.PREPARE_COMMIT_MSG: "commit",
    Stage.PRE_MERGE_COMMIT: "merge", Stage.PRE_COMMIT: "merge",
    Stage.PRE_PUSH: "push", Stage.PRE_RECEIVE: "push",
    Stage.CI: "ci", Stage.CHECK: "ci", Stage.AUDIT: "ci",
}
MESSAGE_STAGES = frozenset({Stage.COMMIT_MSG})
MERGE_STAGES = frozenset({Stage.PRE_MERGE_COMMIT, Stage.CI, Stage.CHECK})
CONCLUDED_MERGE_STAGES = frozenset({Stage.PRE_COMMIT})  # `git commit` ending a conflicted merge
PUSH_STAGES = frozenset({Stage.PRE_PUSH, Stage.PRE_RECEIVE, Stage.CI})


# --- the policy's runs: section ---------------------------------------------------------


class Gate(NamedTuple):
    """One metric threshold, `val_accuracy: ">= 0.90"`."""

    metric: str
    op: str
    threshold: float
    text: str  # the threshold as written, for messages

    @classmethod
    def parse(cls, metric: str, expression: str) -> Gate:
        match = GATE.fullmatch(str(expression))
        if match is None:
            raise ValueError(f"runs.metrics.{metric}: '{expression}' is not a threshold; "
                             "expected an operator (>=, >, <=, <, ==, !=) and a number")
        return cls(metric, match[1], float(match[2]), f"{match[1]} {match[2]}")

    def passes(self, value: float | None) -> bool:
        if value is None or math.isnan(value):
            return False
        return {
            ">=": value >= self.threshold, ">": value > self.threshold,
            "<=": value <= self.threshold, "<": value < self.threshold,
            "==": value == self.threshold, "!=": value != self.threshold,
        }[self.op]


class RunSettings(NamedTuple):
    """The `runs:` section with its defaults filled in."""

    kinds: tuple[str, ...] = ("experiment",)
    trailer: str = "MLflow-Run-Id"
    require: str = "every-commit"  # or one-per-branch
    exempt: frozenset[str] = frozenset({"merge", "fixup"})
    verify: bool = True
    statuses: tuple[str, ...] = ("FINISHED",)
    on_unreachable: Mapping[str, str] = MappingProxyType({
        "commit": "warn", "merge": "block", "push": "block", "ci": "block"})
    gate_into: tuple[str, ...] = ("develop",)
    gates: tuple[Gate, ...] = ()
    params: Mapping[str, str | None] = MappingProxyType({})
    tags: Mapping[str, str | None] = MappingProxyType({})
    tracking_uri: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> RunSettings:
        base = cls()
        return cls(
            kinds=tuple(section.get("branches", base.kinds)),
            trailer=str(section.get("trailer", base.trailer)),
            require=str(section.get("require", base.require)),
            exempt=frozenset(section.get("exempt", base.exempt)),
            verify=bool(section.get("verify", base.verify)),
            statuses=tuple(s.upper() for s in section.get("statuses", base.statuses)),
            on_unreachable={**base.on_unreachable, **section.get("on_unreachable", {})},
            gate_into=tuple(section.get("gate_into", base.gate_into)),
            gates=tuple(Gate.parse(k, v) for k, v in section.get("metrics", {}).items()),
            params=_required(section.get("params", {})),
            tags=_required(section.get("tags", {})),
            tracking_uri=section.get("tracking_uri") or None,
            timeout=float(section.get("timeout", base.timeout)),
        )

    @property
    def has_gate(self) -> bool:
        return bool(self.gates or self.params or self.tags)


def _required(value: Mapping[str, Any] | Iterable[str]) -> dict[str, str | None]:
    """A list names keys that must be present; a mapping also fixes their values."""
    if isinstance(value, Mapping):
        return {str(k): None if v is None else str(v) for k, v in value.items()}
    return {str(k): None for k in value}


def settings(ctx: Context) -> RunSettings:
    cached = ctx.cache.get("runs:settings")
    if not isinstance(cached, RunSettings):
        cached = ctx.cache["runs:settings"] = RunSettings.from_section(ctx.policy.section("runs"))
    return cached


# --- what an event asks about: messages grouped by branch -------------------------------


class Message(NamedTuple):
    """A commit message that may cite runs: `sha` is None for the commit being made."""

    branch: str
    sha: str | None
    text: str
    is_merge: bool

    @property
    def ref(self) -> str:
        """The violation's subject: the branch, or the commit on it."""
        return self.branch if self.sha is None else f"commit {self.sha[:10]} on {self.branch}"

    @property
    def where(self) -> str:
        if self.sha is None:
            return f"the commit message on {self.branch}"
        return f"commit {self.sha[:10]} on {self.branch} ({self.subject!r})"

    @property
    def subject(self) -> str:
        return message_text(self.text).split("\n", 1)[0]

    def is_exempt(self, exempt: frozenset[str]) -> bool:
        return (self.is_merge and "merge" in exempt) or (
            "fixup" in exempt and self.subject.startswith(FIXUP_PREFIXES))


class Scope(NamedTuple):
    """The messages one rule check looks at, and the whole branch for one-per-branch."""

    branch: str
    checked: tuple[Message, ...]  # new messages: each is checked
    whole: tuple[Message, ...]  # all of the branch's own commits (checked among them)
    tip: str | None


def scopes(event: Event, ctx: Context) -> list[Scope]:
    """The cited-run branches the event touches; cached, several rules ask."""
    key = f"runs:scopes:{id(event)}"
    cached = ctx.cache.get(key)
    if cached is None or cached[0] is not event:
        cached = ctx.cache[key] = (event, list(_scopes(event, ctx)))
    result: list[Scope] = cached[1]
    return result


def _scopes(event: Event, ctx: Context) -> Iterator[Scope]:
    cfg = settings(ctx)
    if isinstance(event, CommitMessage):
        if _kind_name(ctx, event.branch) in cfg.kinds and event.branch is not None:
            msg = Message(event.branch, None, event.message, event.is_merge)
            yield Scope(event.branch, (msg,), (msg,), None)
    elif (merge := merge_of(event, ctx)) is not None:
        source, _target, tip, target_tip = merge
        if _kind_name(ctx, source) in cfg.kinds and tip:
            own = _own_commits(ctx, source, tip, [target_tip] if target_tip else [])
            yield Scope(source, own, own, tip)
    elif isinstance(event, Push):
        for update in event.updates:
            branch = update.branch
            if branch and not update.is_delete and _kind_name(ctx, branch) in cfg.kinds:
                own = _own_commits(ctx, branch, update.new)
                fresh = {c.sha for c in pushed_commits(ctx, update, event)}
                yield Scope(branch, tuple(m for m in own if m.sha in fresh), own, update.new)


def merge_of(event: Event, ctx: Context) -> tuple[str, str, str | None, str | None] | None:
    """(source, target, source tip, target tip) of a merge being made, None otherwise."""
    if isinstance(event, MergeAttempt):
        source = ctx.facts.merged_branch(event.source, event.source_sha) or event.source
        target = strip_remote(event.target, ctx.repo.remotes)
        return (source, target, event.source_sha or ctx.repo.rev_parse(event.source),
                event.target_sha or ctx.repo.rev_parse(event.target))
    if isinstance(event, CommitAttempt) and event.merge_head and event.branch:
        named = ctx.facts.merged_branch(event.merge_source, event.merge_head)
        return named or event.merge_head, event.branch, event.merge_head, event.head
    return None


def _own_commits(ctx: Context, branch: str, tip: str,
                 extra_exclude: Iterable[str] = ()) -> tuple[Message, ...]:
    """The branch's own commits: reachable from `tip`, from no branch of another kind."""
    exclude = [*foreign_tips(ctx), *extra_exclude]
    return tuple(Message(branch, c.sha, c.message, c.is_merge)
                 for c in ctx.repo.commits([tip], exclude))


def foreign_tips(ctx: Context) -> list[str]:
    """Tips of local and remote-tracking branches whose kind cites no runs.

    develop merged into an experiment, or the feature an experiment started from, brings
    commits that never had to cite a run.
    """
    kinds = settings(ctx).kinds
    tips = []
    for name, sha in ctx.repo.branch_tips.items():
        short = name.split("/", 2)[2] if name.startswith("remotes/") else name
        kind = ctx.policy.kind_of(short)
        if kind is not None and kind.name not in kinds:
            tips.append(sha)
    return tips


def pushed_commits(ctx: Context, update: RefUpdate, push: Push) -> list[Commit]:
    """The commits a ref update adds that the receiving side does not have yet."""
    return list(ctx.facts.history.new_commits(update, push))


def _kind_name(ctx: Context, branch: str | None) -> str | None:
    if branch is None:
        return None
    kind = ctx.policy.kind_of(branch)
    if kind is None:  # origin/experiment/x, as merge messages name it
        kind = ctx.policy.kind_of(strip_remote(branch, ctx.repo.remotes))
    return kind.name if kind else None


def citations(messages: Iterable[Message], key: str) -> list[tuple[Message, str]]:
    """(message, run id) for each well-formed id, newest commit first, each id once."""
    seen: set[str] = set()
    found = []
    for msg in messages:
        for value in cited_values(msg.text, key):
            if RUN_ID.fullmatch(value) and value not in seen:
                seen.add(value)
                found.append((msg, value))
    return found


# --- the tracking store, asked once per run id -------------------------------------------


def store(ctx: Context) -> TrackingStore:
    cached = ctx.cache.get("runs:store")
    if isinstance(cached, StoreUnreachable):
        raise cached
    if cached is None:
        cfg = settings(ctx)
        try:
            uri = resolve_uri(cfg.tracking_uri, ctx.env, ctx.repo.root)
            if uri is None:
                raise StoreUnreachable("no tracking store configured: set runs.tracking_uri "
                                       "in the policy or MLFLOW_TRACKING_URI")
            cached = open_store(uri, ctx.env, ctx.repo.root, cfg.timeout)
        except StoreUnreachable as error:
            ctx.cache["runs:store"] = error
            raise
        ctx.cache["runs:store"] = cached
    result: TrackingStore = cached
    return result


def lookup(ctx: Context, run_id: str) -> Run | None:
    """The run with this id; StoreUnreachable once the store has failed in this invocation."""
    key = f"runs:run:{run_id}"
    if key not in ctx.cache:
        try:
            ctx.cache[key] = store(ctx).get_run(run_id)
        except StoreUnreachable as error:
            ctx.cache["runs:store"] = error  # one timeout per invocation, not one per run
            raise
    run: Run | None = ctx.cache[key]
    return run


def unreachable(rule: Rule, ctx: Context, error: StoreUnreachable,
                what: str) -> Iterator[Violation]:
    """Say once per invocation that the store could not answer; warn or block per policy."""
    if ctx.cache.get("runs:unreachable-said") \
            or ctx.policy.severity(rule.id, rule.default_severity) is Severity.OFF:
        return  # said already, or by a rule that is on
    ctx.cache["runs:unreachable-said"] = True
    context = CONTEXT_OF_STAGE.get(ctx.stage, "ci")
    mode = settings(ctx).on_unreachable.get(context, "block")
    subject = _store_name(ctx)
    violation = rule.violation(
        subject, f"cannot {what}: {error} (on_unreachable.{context}: {mode})",
        "make the tracking store reachable (runs.tracking_uri or MLFLOW_TRACKING_URI), "
        f"or skip deliberately: FLOWWARDEN_SKIP={rule.id}")
    yield violation.with_severity(Severity.WARNING if mode == "warn" else Severity.ERROR)


def _store_name(ctx: Context) -> str:
    cached = ctx.cache.get("runs:store")
    if cached is not None and not isinstance(cached, StoreUnreachable):
        return redact(cached.uri)
    uri = resolve_uri(settings(ctx).tracking_uri, ctx.env, ctx.repo.root)
    return redact(uri) if uri else "tracking store"


# --- the rules -----------------------------------------------------------------------------


def _applies(event: Event, stage: Stage, messages: bool) -> bool:
    if isinstance(event, CommitMessage):
        return messages and stage in MESSAGE_STAGES
    if isinstance(event, CommitAttempt):
        return stage in CONCLUDED_MERGE_STAGES and event.merge_head is not None
    if isinstance(event, MergeAttempt):
        return stage in MERGE_STAGES
    if isinstance(event, Push):
        return stage in PUSH_STAGES
    return False


class _RunRule(Rule):
    stages = MESSAGE_STAGES | MERGE_STAGES | CONCLUDED_MERGE_STAGES | PUSH_STAGES
    events = (CommitMessage, CommitAttempt, MergeAttempt, Push)

    def applies(self, event: Event, stage: Stage) -> bool:
        return _applies(event, stage, messages=True)


def _trailer_fix(key: str, msg: Message, scope: Scope, value: str = "<run id>") -> str:
    trailer = f'"{key}: {value}"'
    if msg.sha is None:
        return f"git commit --trailer {trailer}"
    if msg.sha == scope.tip:
        return f"git commit --amend --no-edit --trailer {trailer}"
    return (f"git rebase -i {msg.sha[:10]}~1  (reword {msg.sha[:10]}, ending its message "
            f"with {trailer})")


class MlflowRunId(_RunRule):
    id = "mlflow-run-id"
    summary = "Commits on experiment branches cite their MLflow run in a trailer."
    doc = """\
**What it does.** Commits on the branch kinds listed in `runs.branches` (default:
`experiment`) must end with a trailer `MLflow-Run-Id: <run id>`: the key is `runs.trailer`,
the id is 32 lowercase hex digits, several trailers may cite several runs. With
`runs.require: every-commit` (the default) each commit needs one; with `one-per-branch`
at least one commit of the branch must cite a run by the time it is pushed or merged.
Merge commits and `fixup!`/`squash!` commits are exempt (`runs.exempt`).

**Why.** A model on `develop` must be traceable to the run that produced it; a run id
typed into the commit is the one link that survives rebases and server moves.

**Example.**
```
$ git commit -m "Try a wider encoder"
error: mlflow-run-id: the commit message on experiment/wide cites no run: expected a
    trailer 'MLflow-Run-Id: <32 hex digits>'
  fix: git commit --trailer "MLflow-Run-Id: <run id>"
```

**Fix.** Add the trailer as the last paragraph of the message. The prepare-commit-msg
hook offers the runs started from the branch since its last commit.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        cfg = settings(ctx)
        for scope in scopes(event, ctx):
            for msg in scope.checked:
                yield from self._malformed(cfg, msg, scope)
            yield from self._missing(cfg, scope, ctx.stage)

    def _malformed(self, cfg: RunSettings, msg: Message, scope: Scope) -> Iterator[Violation]:
        for value in cited_values(msg.text, cfg.trailer):
            if not RUN_ID.fullmatch(value):
                hint = " (lowercase it)" if RUN_ID.fullmatch(value.lower()) else ""
                yield self.violation(
                    msg.ref, f"{msg.where} cites '{cfg.trailer}: {value}', which is not a run "
                    f"id{hint}: expected 32 lowercase hex digits",
                    _trailer_fix(cfg.trailer, msg, scope, value.lower() if hint else "<run id>"))

    def _missing(self, cfg: RunSettings, scope: Scope, stage: Stage) -> Iterator[Violation]:
        def cites(msg: Message) -> bool:
            return any(RUN_ID.fullmatch(v) for v in cited_values(msg.text, cfg.trailer))

        if cfg.require == "one-per-branch":
            # At commit time the branch may still cite a run later; it must before it leaves.
            if stage not in MESSAGE_STAGES and scope.whole and not any(map(cites, scope.whole)):
                yield self.violation(
                    scope.branch, f"no commit of {scope.branch} cites an MLflow run: expected "
                    f"at least one '{cfg.trailer}: <run id>' trailer ({len(scope.whole)} "
                    "commits checked)",
                    f'git commit --allow-empty -m "Record run" --trailer "{cfg.trailer}: <run id>"')
            return
        for msg in scope.checked:
            if msg.is_exempt(cfg.exempt) or cites(msg):
                continue
            found = (f"; a '{cfg.trailer}:' line is there but not in the last paragraph"
                     if misplaced(msg.text, cfg.trailer) else "")
            yield self.violation(
                msg.ref, f"{msg.where} cites no run: expected a trailer "
                f"'{cfg.trailer}: <32 hex digits>'{found}",
                _trailer_fix(cfg.trailer, msg, scope))


def _verified(rule: Rule, event: Event, ctx: Context,
              what: str) -> Iterator[tuple[Message, str, Run | None] | Violation]:
    """Each cited run with what the store says about it; one unreachable notice at most."""
    cfg = settings(ctx)
    for scope in scopes(event, ctx):
        for msg, run_id in citations(scope.checked, cfg.trailer):
            try:
                yield msg, run_id, lookup(ctx, run_id)
            except StoreUnreachable as error:
                yield from unreachable(rule, ctx, error, f"{what} {run_id}")
                return


class MlflowRunUnknown(_RunRule):
    id = "mlflow-run-unknown"
    summary = "Cited MLflow runs exist in the tracking store and are not deleted."
    doc = """\
**What it does.** With `runs.verify: true` (the default), each run a commit cites is looked
up in the tracking store (`runs.tracking_uri`, else `MLFLOW_TRACKING_URI`): an MLflow server
over its REST API, DagsHub (`https://dagshub.com/<owner>/<repo>.mlflow`), a `sqlite:///`
database or a `./mlruns` directory. A run that does not exist or was deleted is reported.
When the store cannot be reached the rule says so: a warning at commit time, an error at
merge, push and CI (`runs.on_unreachable`).

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
        if not settings(ctx).verify:
            return
        for item in _verified(self, event, ctx, "verify run"):
            if isinstance(item, Violation):
                yield item
                continue
            msg, run_id, run = item
            name = _store_name(ctx)
            if run is None:
                yield self.violation(
                    msg.ref, f"run {run_id} cited by {msg.where} not found in {name}",
                    f"cite a run logged to {name} (check runs.tracking_uri / MLFLOW_TRACKING_URI)")
            elif run.deleted:
                yield self.violation(
                    msg.ref, f"run {run_id} cited by {msg.where} was deleted from {name}",
                    f"mlflow runs restore --run-id {run_id}  (or cite another run)")


class MlflowRunStatus(_RunRule):
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
  fix: re-run the experiment to completion and cite the new run: git commit --trailer
    "MLflow-Run-Id: <run id>"
```

**Fix.** Cite a run that finished, or wait for the running one and commit again.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        cfg = settings(ctx)
        if not cfg.verify:
            return
        for item in _verified(self, event, ctx, "check the status of run"):
            if isinstance(item, Violation):
                yield item
                continue
            msg, run_id, run = item
            if run is not None and not run.deleted and run.status not in cfg.statuses:
                label = f" ({run.name})" if run.name else ""
                yield self.violation(
                    msg.ref, f"run {run_id}{label} cited by {msg.where} is {run.status}, "
                    f"expected {' or '.join(cfg.statuses)}",
                    "re-run the experiment to completion and cite the new run: "
                    f'git commit --trailer "{cfg.trailer}: <run id>"')


class MlflowRunProvenance(_RunRule):
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
  fix: re-run from this branch (git switch experiment/wide && <your training command>)
    and cite the new run
```

**Fix.** Run the experiment from a checkout of the branch (MLflow records the commit when
the script runs inside the git work tree) and cite that run.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if ctx.policy.severity(self.id, self.default_severity) is Severity.OFF:
            return  # off unless the policy turns it on: it costs a git call per run
        for item in _verified(self, event, ctx, "check the provenance of run"):
            if isinstance(item, Violation):
                yield item
                continue
            msg, run_id, run = item
            if run is None or run.deleted:
                continue
            head = msg.sha or ctx.repo.head()
            origin = run.tags.get(COMMIT_TAG)
            fix = (f"re-run from this branch (git switch {msg.branch} && <your training "
                   "command>) and cite the new run")
            if not origin:
                yield self.violation(msg.ref, f"run {run_id} cited by {msg.where} has no "
                                     f"{COMMIT_TAG} tag: cannot tell which code produced it",
                                     fix)
            elif head is None or not (origin == head or ctx.repo.is_ancestor(origin, head)):
                yield self.violation(
                    msg.ref, f"run {run_id} cited by {msg.where} was started from "
                    f"{origin[:10]}, which is not in "
                    f"the history of {(head or 'an unborn branch')[:10]}", fix)


class MlflowMetricGate(Rule):
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
that value). Metrics are each run's latest value. Nothing is gated when no thresholds,
params or tags are set.

**Why.** `develop` is what the next release ships; an experiment reaches it only with
evidence that it worked.

**Example.**
```
$ git switch develop && git merge --no-ff experiment/wide
error: mlflow-metric-gate: experiment/wide may merge into develop only with a cited run
    that meets the gate: run e3db954babba4d19b65efca9c1111c46 val_accuracy 0.85
    (needs >= 0.90), val_loss 0.35 (needs < 0.4, ok)
  fix: improve the model, then cite a run that meets the gate: git merge --abort &&
    git switch experiment/wide && git commit --allow-empty -m "Record run" --trailer
    "MLflow-Run-Id: <run id>"
```

**Fix.** Train until a run meets the thresholds, cite it on the branch (an empty commit
with the trailer is enough), and merge again.
"""

    def applies(self, event: Event, stage: Stage) -> bool:
        return _applies(event, stage, messages=False)

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        cfg = settings(ctx)
        if not cfg.has_gate:
            return
        for source, target, messages in self._merges(event, ctx, cfg):
            yield from self._gate(ctx, cfg, source, target, messages)

    def _merges(self, event: Event, ctx: Context,
                cfg: RunSettings) -> Iterator[tuple[str, str, tuple[Message, ...]]]:
        """(source, target, the source's commits) for each gated merge the event makes."""
        merge = merge_of(event, ctx)
        if merge is not None:
            if _kind_name(ctx, merge[1]) in cfg.gate_into:
                for scope in scopes(event, ctx):
                    yield scope.branch, merge[1], scope.whole
        elif isinstance(event, Push):
            for update in event.updates:
                target = update.branch
                if target and not update.is_delete and _kind_name(ctx, target) in cfg.gate_into:
                    yield from self._pushed_merges(ctx, cfg, update, event, target)

    def _pushed_merges(self, ctx: Context, cfg: RunSettings, update: RefUpdate, push: Push,
                       target: str) -> Iterator[tuple[str, str, tuple[Message, ...]]]:
        # A push to develop brings merges: each merge's second parent side is one branch.
        covered: set[str] = set()
        pushed = pushed_commits(ctx, update, push)
        for commit in pushed:
            if not commit.is_merge:
                continue
            named = parse_merge_message(commit.message)
            source = strip_remote(named.source, ctx.repo.remotes) if named else None
            side = ctx.repo.commits(commit.parents[1:], [commit.parents[0]])
            covered.update(c.sha for c in side)
            messages = tuple(Message(source or target, c.sha, c.message, c.is_merge)
                             for c in side)
            if _kind_name(ctx, source) in cfg.kinds or citations(messages, cfg.trailer):
                yield source or f"the merge {commit.sha[:10]}", target, messages
        # Commits that reach develop without a merge commit (a fast-forward) but cite runs.
        direct = tuple(Message(target, c.sha, c.message, c.is_merge)
                       for c in pushed if c.sha not in covered and not c.is_merge)
        if citations(direct, cfg.trailer):
            yield f"commits pushed to {target}", target, direct

    def _gate(self, ctx: Context, cfg: RunSettings, source: str, target: str,
              messages: tuple[Message, ...]) -> Iterator[Violation]:
        cited = citations(messages, cfg.trailer)
        record = f'git commit --allow-empty -m "Record run" --trailer "{cfg.trailer}: <run id>"'
        if ctx.stage in (Stage.PRE_MERGE_COMMIT, Stage.PRE_COMMIT):
            record = f"git merge --abort && git switch {source} && {record}"
        fix = f"improve the model, then cite a run that meets the gate: {record}"
        if not cited:
            yield self.violation(source, f"{source} cites no MLflow run, so nothing shows it "
                                 f"meets the gate for {target}: {_gate_text(cfg)}", fix)
            return
        reports = []
        for _msg, run_id in cited:
            try:
                run = lookup(ctx, run_id)
            except StoreUnreachable as error:
                yield from unreachable(self, ctx, error, f"check the gate for {target}")
                return
            failures, report = _judge(cfg, run_id, run)
            if not failures:
                return
            reports.append(report)
        yield self.violation(
            source, f"{source} may merge into {target} only with a cited run that meets the "
            f"gate: {reports[0]}", fix,
            details=tuple(reports[1:]))


def _gate_text(cfg: RunSettings) -> str:
    parts = [f"{g.metric} {g.text}" for g in cfg.gates]
    parts += [f"param {k}" + (f" = {v}" if v is not None else "") for k, v in cfg.params.items()]
    parts += [f"tag {k}" + (f" = {v}" if v is not None else "") for k, v in cfg.tags.items()]
    return ", ".join(parts)


def _judge(cfg: RunSettings, run_id: str, run: Run | None) -> tuple[int, str]:
    """How many requirements the run misses, and a line showing each value against its gate."""
    if run is None:
        return 1, f"run {run_id} not found"
    if run.deleted or run.status not in cfg.statuses:
        state = "deleted" if run.deleted else run.status
        return 1, f"run {run_id} is {state}, expected {' or '.join(cfg.statuses)}"
    failures = 0
    parts = []
    for gate in cfg.gates:
        value = run.metrics.get(gate.metric)
        ok = gate.passes(value)
        failures += not ok
        shown = "missing" if value is None else f"{value:g}"
        parts.append(f"{gate.metric} {shown} (needs {gate.text}{', ok' if ok else ''})")
    for label, wanted, have in (("param", cfg.params, run.params), ("tag", cfg.tags, run.tags)):
        for key, required in wanted.items():
            actual = have.get(key)
            ok = actual is not None and (required is None or actual == required)
            failures += not ok
            expected = "present" if required is None else f"= {required}"
            parts.append(f"{label} {key} {actual if actual is not None else 'missing'} "
                         f"(needs {expected}{', ok' if ok else ''})")
    return failures, f"run {run_id} " + ", ".join(parts)
