"""The verdict: the request as events, judged by the engine under the judging policy."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from flowwarden.adapters.git import GitRepo
from flowwarden.core.records import (
    ZERO_SHA,
    Event,
    MergeAttempt,
    Outcome,
    Push,
    RefUpdate,
    Severity,
    Violation,
)
from flowwarden.core.stages import Stage
from flowwarden.engine.evaluate import evaluate as run_rules
from flowwarden.entry.ci.history import ensure_history, needed_tips, resolve_request
from flowwarden.entry.ci.judge import judge
from flowwarden.entry.ci.platform import MergeRequest, PushRange, Request
from flowwarden.policy.load import load_policy, load_policy_at
from flowwarden.policy.select import policy_change_note
from flowwarden.rules.base import Context


def events_for(repo: GitRepo, request: Request, remote: str) -> tuple[Event, ...]:
    """A request is a merge (direction) and the source branch arriving from its merge base
    (name, origin, every commit); a push is the ref update itself."""
    if isinstance(request, PushRange):
        return (Push((RefUpdate(request.ref, request.before, request.after),), remote=remote),)
    merge = MergeAttempt(request.source, request.target, request.source_sha, request.target_sha)
    if not request.source_sha:
        return (merge,)
    bases = repo.merge_bases(request.source_sha, request.target_sha) \
        if request.target_sha else ()
    arrival = RefUpdate(f"refs/heads/{request.source}", bases[0] if bases else ZERO_SHA,
                        request.source_sha)
    return (merge, Push((arrival,), remote=remote))


def evaluate(repo: GitRepo, request: Request, env: Mapping[str, str], remote: str,
             fetch: bool, progress: TextIO | None = None) -> Outcome:
    """The outcome for `request`; with a `progress` stream the policy's checks for a merge
    request's target run in the work tree (`--run-checks`) and stream their output there."""
    request = resolve_request(repo, request, remote, fetch)
    rev, named = judge(repo, request, remote)
    tips = needed_tips(request, rev if isinstance(request, PushRange) else None)
    notes = list(ensure_history(repo, request, tips, remote, fetch))
    policy = load_policy_at(repo, rev) if rev else load_policy(None)
    source = policy.source.replace(rev, rev[:12]) if rev else policy.source
    notes.append(f"judged by the policy of {named}"
                 + (f" at {rev[:12]}" if rev else "") + f": {source}")
    incoming = request.source_sha if isinstance(request, MergeRequest) else request.after
    change = policy_change_note(repo, rev, incoming)
    notes += [change] if change else []
    ctx = Context(policy, repo, Stage.CI, env, progress, judge=rev)
    violations: list[Violation] = []
    if isinstance(request, PushRange) and request.before == request.after == ZERO_SHA:
        # A GitHub `delete` event: the ref is gone and the payload does not name its commit.
        kind = policy.kind_of(request.branch)
        if kind is None or not kind.protected:
            notes.append(f"the delete event does not say which commit {request.branch} "
                         "pointed at, so whether it reached its targets first cannot be "
                         "checked here; flowwarden's pre-push shim and pre-receive hook check it")
            return Outcome((), tuple(notes))
    for event in events_for(repo, request, remote):
        outcome = run_rules(event, ctx)
        violations += [v for v in outcome.violations if v not in violations]
        notes += [n for n in outcome.notes if n not in notes]
    return Outcome(tuple(violations), tuple(notes))


def verdict(outcome: Outcome) -> str:
    """`failed (2 errors, 1 warning, 1 waived)`: waivers are counted, never silent."""
    errors = len(outcome.blocking)
    waived = sum(1 for v in outcome.violations if v.waived_by is not None)
    warnings = sum(1 for v in outcome.violations
                   if v.severity is Severity.WARNING and v.waived_by is None)
    counts = [f"{n} {word}{'s' if n != 1 and word != 'waived' else ''}"
              for n, word in ((errors, "error"), (warnings, "warning"), (waived, "waived")) if n]
    return ("failed" if errors else "passed") + (f" ({', '.join(counts)})" if counts else "")


def describe(request: Request) -> str:
    """What was judged, for the report's verdict line, in the forge's words."""
    if isinstance(request, MergeRequest):
        what = f"merge of {request.source} into {request.target}"
        if request.via:
            noun = "merge request" if request.provider == "gitlab" else "pull request"
            what += f" ({noun}, {request.via} pipeline)"
        return what
    name = request.ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    span = f"({request.before[:10]}..{request.after[:10]})"
    if request.via == "merge queue":
        return f"merge queue candidate for {name} {span}"
    if request.after == ZERO_SHA:
        return f"deletion of {'tag ' if request.is_tag else ''}{name}"
    if request.is_tag:
        return f"tag {name} {span}"
    return f"push to {name} {span}"
