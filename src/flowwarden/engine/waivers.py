"""Waivers: a `Flowwarden-Waive: <rule> <reason>` trailer or a policy entry turns a violation
into a reported waiver, never a silent one, and only for rules the policy lets be waived.

The trailer is read from git's trailer block only, like every trailer flowwarden reads."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from flowwarden.adapters.git.messages import trailer_block
from flowwarden.core.records import (
    CommitAttempt,
    CommitMessage,
    Event,
    MergeAttempt,
    Push,
    Severity,
    Violation,
)
from flowwarden.policy.sections import PolicyWaiver
from flowwarden.rules.base import Context

if TYPE_CHECKING:
    import datetime as dt

TRAILER = "Flowwarden-Waive"


class Waiver(NamedTuple):
    """One waiver as found: where it came from and, for policy entries, its limits."""

    rule: str
    reason: str
    origin: str  # "commit abc1234", "this commit message", "policy"
    commit: str | None = None  # the commit carrying the trailer
    expires: dt.date | None = None
    subject: str | None = None  # a policy waiver may name one subject only

    def describe(self) -> str:
        until = f" (until {self.expires.isoformat()})" if self.expires else ""
        return f"{TRAILER} in {self.origin}: {self.reason}" if self.origin != "policy" \
            else f"policy waiver: {self.reason}{until}"


def trailer_waivers(message: str, origin: str, commit: str | None = None) -> list[Waiver]:
    """Every `Flowwarden-Waive:` trailer of a commit message (the reason may be empty:
    reported); keys compare case-insensitively, as git's do."""
    found = []
    for key, value in trailer_block(message):
        words = value.split(None, 1)
        if key.lower() == TRAILER.lower() and words:
            found.append(Waiver(words[0], words[1] if len(words) > 1 else "", origin, commit))
    return found


def policy_waivers(entries: Iterable[PolicyWaiver]) -> list[Waiver]:
    return [Waiver(e.rule, e.reason, "policy", expires=e.expires, subject=e.subject)
            for e in entries]


def relevant_waivers(event: Event, ctx: Context) -> list[Waiver]:
    """Trailers of the commits the event brings: a push's new commits, a merge's source-only
    commits, the message being committed."""
    if isinstance(event, CommitMessage):
        return trailer_waivers(event.message, "this commit message")
    if isinstance(event, CommitAttempt) and event.merge_head is not None:
        return trailer_waivers(ctx.repo.merge_msg() or "", "the merge message")
    found: list[Waiver] = []
    for commit_sha, message in _incoming_messages(event, ctx):
        found += trailer_waivers(message, f"commit {commit_sha[:7]}", commit_sha)
    return found


def _incoming_messages(event: Event, ctx: Context) -> Iterable[tuple[str, str]]:
    repo = ctx.repo
    if isinstance(event, MergeAttempt):
        source = event.source_sha or repo.rev_parse(event.source)
        target = event.target_sha or repo.rev_parse(event.target)
        # A hook may name commits this repository lacks: no trailers from those.
        if not (source and target and repo.has_object(source) and repo.has_object(target)):
            return []
        return [(c.sha, c.message) for c in repo.commits([source], [target])]
    if isinstance(event, Push):
        found = []
        for update in event.updates:
            if update.is_delete:
                continue
            # Everything an update brings to its branch counts, even commits the other side
            # has on another branch: the trailer travels with them. Without the old tip
            # here, the engine's idea of what the other side lacks is the best there is.
            if update.is_create or not repo.has_object(update.old):
                commits = list(ctx.facts.history.new_commits(update, event))
            else:
                commits = repo.commits([update.new], [update.old])
            found += [(c.sha, c.message) for c in commits]
        return found
    return []


def apply(violations: tuple[Violation, ...], event: Event,
          ctx: Context) -> tuple[Violation, ...]:
    """Set `waived_by` where a waiver the policy allows covers a violation; say why otherwise."""
    if not any(v.severity is not Severity.OFF for v in violations):
        return violations
    import datetime as dt  # only when there is something to waive: hooks load this module

    trailers = relevant_waivers(event, ctx)
    listed = policy_waivers(ctx.policy.waivers)
    today = dt.datetime.now(dt.timezone.utc).date()
    return tuple(_judge(v, trailers, listed, ctx, today) for v in violations)


def waivable(rule: str, ctx: Context) -> bool:
    return ctx.policy.rule_settings(rule).waivable


def _judge(v: Violation, trailers: list[Waiver], listed: list[Waiver], ctx: Context,
           today: dt.date) -> Violation:
    if v.severity is Severity.OFF or v.waived_by is not None:
        return v
    said: list[str] = []
    candidates = [w for w in _covering(v, trailers) if w.rule == v.rule]
    candidates += [w for w in listed if w.rule == v.rule
                   and (w.subject is None or _names_subject(w.subject, v))]
    for w in candidates:
        if not w.reason:
            said.append(f"{TRAILER} in {w.origin} ignored: it gives no reason "
                        f"(write `{TRAILER}: {v.rule} <why>`)")
        elif not waivable(v.rule, ctx):
            said.append(f"{w.describe()} ignored: the policy does not let {v.rule} be waived "
                        f"(rules.{v.rule}.waivable is not true)")
        elif w.expires is not None and w.expires < today:
            said.append(f"policy waiver for {v.rule} expired on {w.expires.isoformat()}: "
                        f"{w.reason}")
        else:
            return _with_details(v, said).waived(w.describe())
    return _with_details(v, said)


def _covering(v: Violation, trailers: list[Waiver]) -> list[Waiver]:
    """A violation about one commit is waived only by that commit's own trailer."""
    token = _commit_token(v.subject) or _commit_token(v.message)
    if token is None:
        return trailers
    return [w for w in trailers if w.commit is not None and w.commit.startswith(token)]


def _names_subject(subject: str, v: Violation) -> bool:
    """A policy waiver's subject: the violation's subject, or the commit it is about by any
    abbreviation of its sha (violations name commits by 7 to 10 hex digits)."""
    if subject == v.subject:
        return True
    token = _commit_token(v.subject) or _commit_token(v.message)
    return token is not None and _commit_token(subject) == subject \
        and (token.startswith(subject) or subject.startswith(token))


def _commit_token(text: str) -> str | None:
    """The abbreviated sha a subject or message starts with (`1a2b3c4 on develop`), if any."""
    token = text.split(maxsplit=1)[0] if text.strip() else ""
    return token if re.fullmatch(r"[0-9a-f]{7,40}", token) else None


def _with_details(v: Violation, said: list[str]) -> Violation:
    if not said:
        return v
    return v._replace(details=(*v.details, *said))
