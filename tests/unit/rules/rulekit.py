"""Run one rule's check directly, through a real Context over a small real git repository.

The repository stands for the side that judges: its branches are what the server (or our copy
of the remote) holds before the push; the pushed commits exist as objects only, made on a
detached HEAD, as they do in a server's quarantine during pre-receive."""
from __future__ import annotations

import importlib

from flowwarden.adapters.git import GitRepo
from flowwarden.core.records import ZERO_SHA, Event, Push, RefUpdate, Violation
from flowwarden.core.stages import Stage
from flowwarden.policy.load import load_policy
from flowwarden.rules.base import Context, Rule
from fwkit import Repo


def rule(rule_id: str) -> Rule:
    found: Rule = importlib.import_module(f"flowwarden.rules.{rule_id.replace('-', '_')}").RULE
    assert found.id == rule_id
    return found


def check(rule_id: str, event: Event, repo: Repo, stage: Stage) -> list[Violation]:
    """What `rule_id` finds in `event` at `stage`, with the policy of `repo`'s work tree."""
    judge = rule(rule_id)
    assert judge.applies(event, stage), f"{rule_id} does not apply to {event!r} at {stage}"
    ctx = Context(load_policy(repo.path), GitRepo.discover(repo.path, repo.env), stage,
                  repo.env)
    return list(judge.check(event, ctx))


def assert_one(found: list[Violation], rule_id: str, subject: str, *words: str) -> Violation:
    """Exactly one violation, of `rule_id`, about `subject`, with the key words and a fix."""
    assert len(found) == 1, found
    [violation] = found
    assert violation.rule == rule_id, violation
    assert violation.subject == subject, violation
    for word in words:
        assert word in violation.message, f"{word!r} missing: {violation.message}"
    assert violation.fix, violation
    return violation


def commit(repo: Repo, rel: str, message: str | None = None) -> str:
    repo.write(rel, f"{rel}\n")
    repo.git("add", rel)
    repo.git("commit", "-qm", message or f"Change {rel}")
    return repo.sha()


def branch(repo: Repo, name: str, base: str) -> str:
    """`name` from `base` with one commit of its own; leaves `name` checked out."""
    repo.git("switch", "-q", "-c", name, base)
    return commit(repo, f"{name.replace('/', '-')}.txt")


def merge(repo: Repo, target: str, source: str, message: str | None = None) -> str:
    """A --no-ff merge of `source` into the branch `target`."""
    repo.git("switch", "-q", target)
    repo.git("merge", "-q", "--no-ff", *(["-m", message] if message else []), source)
    return repo.sha()


def unpushed(repo: Repo, base: str, rel: str | None = None, merge_of: str | None = None,
             message: str | None = None) -> str:
    """A commit on top of `base` that no branch holds yet: a plain one, or a merge of
    `merge_of` (default message: git's `Merge branch '<merge_of>'`)."""
    repo.git("switch", "-q", "--detach", base)
    if merge_of:
        repo.git("merge", "-q", "--no-ff", "-m", message or f"Merge branch '{merge_of}'",
                 merge_of)
        sha = repo.sha()
    else:
        sha = commit(repo, rel or "unpushed.txt", message)
    repo.git("switch", "-q", "main")
    return sha


def push(*updates: tuple[str, str, str], remote: str | None = None) -> Push:
    """A push of (branch, old, new) updates; ZERO_SHA creates or deletes."""
    return Push(tuple(RefUpdate(f"refs/heads/{b}", old, new) for b, old, new in updates), remote)


__all__ = ["ZERO_SHA", "assert_one", "branch", "check", "commit", "merge", "push", "rule",
           "unpushed"]
