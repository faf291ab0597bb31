"""Which committed policy judges a ref update on a server or in CI: never the incoming one."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.adapters.git import GitRepo
from flowwarden.model import Push, RefUpdate
from flowwarden.policy.load import POLICY_FILE, load_policy_at
from flowwarden.policy.model import Policy


def judging_rev(repo: GitRepo, base: Policy, update: RefUpdate) -> str:
    """The target's current tip; for a new branch, the tip of the branch it must come from,
    as told by the first long-lived branch whose committed policy knows the new branch's kind
    (a kind added on develop is known there before a release carries it to main)."""
    if not update.is_create and repo.has_object(update.old):
        return update.old
    tips = repo.local_branches()
    candidates = ["HEAD", *(sha for kind in base.protected_kinds
                            for name, sha in tips.items() if kind.matches(name))]
    for rev in candidates:
        policy = base if rev == "HEAD" else load_policy_at(repo, rev)
        kind = policy.kind_of(update.branch)
        if kind is None:
            continue
        for origin in kind.origins:
            origin_kind = policy.kind(origin)
            for name, sha in tips.items():
                if origin_kind is not None and origin_kind.matches(name):
                    return sha
        return rev
    return "HEAD"


def split_by_policy(repo: GitRepo, push: Push) -> Iterator[tuple[Policy, str, Push]]:
    """The push's updates grouped by the committed policy that judges them."""
    base = load_policy_at(repo, "HEAD")
    groups: dict[str, list[RefUpdate]] = {}
    for update in push.updates:
        groups.setdefault(judging_rev(repo, base, update), []).append(update)
    for rev, updates in groups.items():
        yield load_policy_at(repo, rev), rev, Push(tuple(updates), push.remote, push.url)


def policy_changes(repo: GitRepo, push: Push) -> list[str]:
    """Notes for updates whose incoming commits edit the policy file."""
    notes = []
    for update in push.updates:
        if update.is_delete or update.is_create or not repo.has_object(update.old):
            continue
        changed = repo.git("diff", "--name-only", update.old, update.new, "--", POLICY_FILE)
        if changed.strip():
            notes.append(f"{update.ref} changes {POLICY_FILE}; it is judged by the policy "
                         f"already on the branch, and the change applies once it has landed")
    return notes
