"""What the run rules share: where they answer, the fix that adds a trailer, and the cited
runs looked up in the tracking store, with one notice when it cannot answer."""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import ClassVar, NamedTuple

from flowwarden.adapters.git.messages import cited_values, message_text
from flowwarden.adapters.mlflow import RUN_ID, Run, StoreUnreachable
from flowwarden.core.records import (
    CommitAttempt,
    CommitMessage,
    Event,
    MergeAttempt,
    Push,
    Severity,
    Violation,
)
from flowwarden.core.redact import redact
from flowwarden.core.stages import (
    CONCLUDED_MERGE_STAGES,
    LOCAL_STAGES,
    MERGE_STAGES,
    MESSAGE_STAGES,
    PUSH_STAGES,
    Stage,
)
from flowwarden.facts.runs import Message, Scope, citations
from flowwarden.policy.runs import RunSettings
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import shell_word


class RunRule(Rule):
    """A rule on commit messages, merges being made (or concluded) and pushes."""

    stages = MESSAGE_STAGES | MERGE_STAGES | CONCLUDED_MERGE_STAGES | PUSH_STAGES
    events: ClassVar[tuple[type, ...]] = (CommitMessage, CommitAttempt, MergeAttempt, Push)

    def applies(self, event: Event, stage: Stage) -> bool:
        if stage not in self.stages:
            return False
        if isinstance(event, CommitMessage):
            return stage in MESSAGE_STAGES
        if isinstance(event, CommitAttempt):
            return stage in CONCLUDED_MERGE_STAGES and event.merge_head is not None
        if isinstance(event, MergeAttempt):
            return stage in MERGE_STAGES
        if isinstance(event, Push):
            return stage in PUSH_STAGES
        return False


def trailer_fix(key: str, msg: Message, scope: Scope, value: str | None = None) -> str:
    """The command that gives `msg` the trailer `key: value`: the commit made again with the
    message git kept, an amend of the tip, or a rebase that stops at an older commit to amend
    it; each drops the message's `key` trailers that are no run id first, so a bad one never
    survives. Words when no run is known (`value` None): a command holds no placeholder."""
    if value is None:
        return _log_then_cite(key, msg, scope)
    trailer = f'"{key}: {value}"'
    bad = any(not RUN_ID.fullmatch(v) for v in cited_values(msg.text, key))
    keep = f" | awk {shell_word(_keep_run_ids(key))} |" if bad else None
    if msg.sha is None:
        text = message_text(msg.text).strip()
        if text and "\n" not in text:
            again = f"git commit -m {shell_word(text)}"
        else:  # the message git kept; the editor's comment lines, if any, stripped again
            strip = "" if any(line.startswith("#") for line in text.splitlines()) \
                else " --cleanup=strip"
            kept = '"$(git rev-parse --git-path COMMIT_EDITMSG)"'
            again = (f"cat {kept}{keep} git commit -F -{strip}" if keep
                     else f"git commit -F {kept}{strip}")
        return f"{again} --trailer {trailer}  # add -a or your paths if your commit had them"
    amend = (f"git log -1 --format=%B{keep} git commit --amend -F -" if keep
             else "git commit --amend --no-edit")
    if msg.sha == scope.tip:
        return f"{amend} --trailer {trailer}"
    return f"{edit_at(msg.sha)} && {amend} --trailer {trailer} && git rebase --continue"


def _keep_run_ids(key: str) -> str:
    """An awk program printing a message without its `key` trailers that hold no run id
    (keys compare case-insensitively; `key` is `[A-Za-z0-9-]+`, as the schema says)."""
    return ('{ k = tolower($0); sub(/[ \t]*:.*/, "", k); v = $0; sub(/^[^:]*:[ \t]*/, "", v); '
            'sub(/[ \t]*$/, "", v) } '
            f'k == "{key.lower()}" && (length(v) != 32 || v ~ /[^0-9a-f]/) {{ next }} {{ print }}')


def _log_then_cite(key: str, msg: Message, scope: Scope) -> str:
    """What to do when no run of the branch is known, in words: log the run, then cite it."""
    cite = f"a last-paragraph trailer '{key}: ' followed by its 32-hex-digit id"
    bad = [v for v in cited_values(msg.text, key) if not RUN_ID.fullmatch(v)]
    instead = f" in place of '{key}: {bad[0]}'" if bad else ""
    head = f"log the run this commit comes from to MLflow (from a checkout of {scope.branch})"
    if msg.sha is None:
        return f"{head}, then commit again with {cite}{instead} (git commit --trailer)"
    if msg.sha == scope.tip:
        return (f"{head}, then amend the commit with {cite}{instead} "
                "(git commit --amend --trailer)")
    return (f"{head}, then give commit {msg.sha[:10]} {cite}{instead} (git rebase -i "
            f"{msg.sha[:10]}^, mark it 'edit', git commit --amend --trailer, git rebase "
            "--continue)")


def edit_at(sha: str) -> str:
    """A rebase that stops at commit `sha` to amend it: its todo line turned into `edit` by
    sed, as a person would in the editor."""
    short = sha[:10]
    edit = shell_word(f"sed -i.orig -e '/^pick {short[:7]}/s/^pick/edit/'")
    return f"git -c sequence.editor={edit} rebase -i {short}~1"


def reword_fix(sha: str, trailer: str, value: str) -> str:
    """The rebase that replaces the runs cited by commit `sha` with `value`."""
    return (f"{edit_at(sha)} && git -c trailer.ifexists=replace commit --amend --no-edit "
            f'--trailer "{trailer}: {value}" && git rebase --continue')


def gate_fix(ctx: Context, source: str, target: str, messages: tuple[Message, ...],
             dead: list[Message], made: str | None) -> str:
    """What makes the merge of `source` into `target` pass the gate. A command when the
    merge is being made and `source` has an uncited run that meets the gate; else words:
    the merge already made (`made`, found at push) undone, each commit in `dead` (it cites a
    run that cannot pass) reworded, a run that meets the gate cited, the merge made again."""
    cfg = ctx.policy.runs
    run = None if dead else _passing_run(ctx, source, messages)
    merging = ctx.stage in (Stage.PRE_MERGE_COMMIT, Stage.PRE_COMMIT)
    if run is not None and merging:
        return (f"git merge --abort && git switch {shell_word(source)} && git commit --allow-empty "
                f'-m "Record run" --trailer "{cfg.trailer}: {run}" && '
                f"git switch {shell_word(target)} && git merge --no-ff {shell_word(source)}")
    which = f"run {run}" if run else "a run that meets the gate"
    steps = [] if run else ["improve the model until a run meets the gate"]
    if merging:
        steps.append("abort this merge (git merge --abort)")
    elif made is not None:
        steps.append(f"undo the merge {made[:10]} on {target} (git reset --keep "
                     f"{made[:10]}^1 where it is the tip)")
    steps += [f"reword commit {m.sha[:10]} on {source} so its {cfg.trailer} trailer cites "
              f"{which} instead (git rebase -i {m.sha[:10]}^, mark it 'reword')"
              for m in dead if m.sha]
    if not dead or any(m.sha is None for m in dead):
        steps.append(f"cite {which} on {source} with an empty commit whose message ends in "
                     f"the trailer '{cfg.trailer}: {run or '<its 32-hex-digit id>'}'")
    steps.append("push it and let the pull request run again" if ctx.stage is Stage.CI
                 and made is None else "merge again")
    return ", then ".join(steps)


def _passing_run(ctx: Context, branch: str, messages: tuple[Message, ...]) -> str | None:
    """A run of `branch` that meets the gate and no commit of it cites, newest first."""
    cfg = ctx.policy.runs
    cited = {run_id for _m, run_id in citations(messages, cfg.trailer)}
    try:
        runs = ctx.facts.runs.store().search_runs(branch, None)
    except StoreUnreachable:
        return None
    for run in sorted(runs, key=lambda r: r.start_time or 0, reverse=True):
        if run.id not in cited and not judge(cfg, run.id, run).failures:
            return run.id
    return None


def verified(rule: Rule, event: Event, ctx: Context,
             what: str) -> Iterator[tuple[Message, str, Run | None] | Violation]:
    """Each cited run with what the store says about it; one unreachable notice at most."""
    runs = ctx.facts.runs
    for scope in runs.scopes(event):
        for msg, run_id in citations(scope.checked, ctx.policy.runs.trailer):
            try:
                yield msg, run_id, runs.lookup(run_id)
            except StoreUnreachable as error:
                yield from unreachable(rule, ctx, error, f"{what} {run_id}")
                return


def unreachable(rule: Rule, ctx: Context, error: StoreUnreachable,
                what: str) -> Iterator[Violation]:
    """Say once per run that the store could not answer; warn or block per policy."""
    if ctx.policy.severity(rule.id, rule.default_severity) is Severity.OFF \
            or not ctx.facts.runs.first_unreachable_notice():
        return  # a rule that is off leaves the notice to one that is on
    context, mode = ctx.policy.runs.unreachable_mode(ctx.stage)
    skip = (f", or skip deliberately: FLOWWARDEN_SKIP={rule.id}"
            if ctx.stage in LOCAL_STAGES or ctx.policy.rule_settings(rule.id).skippable else "")
    violation = rule.violation(
        ctx.facts.runs.store_name(),
        f"cannot {what}: {redact(str(error))} (on_unreachable.{context}: {mode})",
        f"make the tracking store reachable (runs.tracking_uri or MLFLOW_TRACKING_URI){skip}")
    yield violation.with_severity(Severity.WARNING if mode == "warn" else Severity.ERROR)


# --- judging a run against the gate --------------------------------------------------------


class Judgement(NamedTuple):
    """How many requirements a run misses, and a line showing each value against its gate."""

    failures: int
    report: str


def judge(cfg: RunSettings, run_id: str, run: Run | None) -> Judgement:
    """`run` against `runs.metrics`, `runs.params` and `runs.tags`, in words."""
    if run is None:
        return Judgement(1, f"run {run_id} not found")
    if run.deleted or run.status not in cfg.statuses:
        state = "deleted" if run.deleted else run.status
        return Judgement(1, f"run {run_id} is {state}, expected {' or '.join(cfg.statuses)}")
    failures = 0
    parts = []
    for gate in cfg.gates:
        value = run.metrics.get(gate.metric)
        ok = gate.passes(value)
        failures += not ok
        needs = f"needs {gate.text}{', ok' if ok else ''}"
        if value is None and gate.metric in run.params:
            parts.append(f"{gate.metric} is not a metric but a param "
                         f"({run.params[gate.metric]}): gate it under runs.params")
        elif value is None:
            parts.append(f"{gate.metric} missing ({needs})")
        else:
            step = run.steps.get(gate.metric, 0)
            parts.append(f"{gate.metric} {value:g} (latest, step {step}; {needs})")
    for param in cfg.params:
        actual = run.params.get(param.key)
        ok = param.passes(actual)
        failures += not ok
        shown = actual if actual is not None else "missing"
        if actual is None and param.key in run.metrics:
            shown = "is not a param but a metric: gate it under runs.metrics"
        parts.append(f"param {param.key} {shown} (needs {param.text}{', ok' if ok else ''})")
    for key, required in cfg.tags.items():
        tag = run.tags.get(key)
        ok = tag is not None and (required is None or tag == required)
        failures += not ok
        expected = "present" if required is None else f"= {required}"
        parts.append(f"tag {key} {tag if tag is not None else 'missing'} "
                     f"(needs {expected}{', ok' if ok else ''})")
    return Judgement(failures, f"run {run_id}{_named(run)} " + ", ".join(parts))


def best_child(cfg: RunSettings, children: Iterable[Run]) -> tuple[Run, Judgement] | None:
    """The sweep trial that best meets the gate: fewest misses, then the first metric's best."""
    first = cfg.gates[0] if cfg.gates else None

    def rank(item: tuple[Run, Judgement]) -> tuple[int, float]:
        run, verdict = item
        value = run.metrics.get(first.metric) if first else None
        if value is None or math.isnan(value):
            return verdict.failures, math.inf
        return verdict.failures, -value if first and first.op in (">", ">=") else value

    judged = [(run, judge(cfg, run.id, run)) for run in children]
    return min(judged, key=rank) if judged else None


def _named(run: Run) -> str:
    return f" ({run.name})" if run.name else ""
