"""Which committed policy judges a ref update on a server or in CI: never the incoming one."""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from flowwarden.adapters.git import GitRepo
from flowwarden.core.records import ZERO_SHA, Push, RefUpdate
from flowwarden.policy.load import POLICY_FILE, load_policy_at
from flowwarden.policy.model import Policy


def origin_of(policy: Policy, branch: str, tips: Mapping[str, str]) -> str | None:
    """The first existing branch (by name) of a kind `branch` may be created from."""
    kind = policy.kind_of(branch)
    for origin in kind.origins if kind else ():
        origin_kind = policy.kind(origin)
        for name in sorted(tips):
            if origin_kind is not None and origin_kind.matches(name) and name != branch:
                return name
    return None


def new_branch_judge(repo: GitRepo, branch: str, tips: Mapping[str, str],
                     home: str) -> tuple[str, str | None]:
    """(revision whose policy judges a new `branch`, the origin branch it names or None).

    The first long-lived branch whose committed policy knows the new branch's kind says where
    it must come from (a kind added on develop is known there before a release carries it to
    main); that origin's tip judges. `home` is the default branch's revision, asked first."""
    base = load_policy_at(repo, home)
    candidates = [home, *(sha for kind in base.protected_kinds
                          for name, sha in sorted(tips.items()) if kind.matches(name))]
    for rev in candidates:
        policy = base if rev == home else load_policy_at(repo, rev)
        if policy.kind_of(branch) is None:
            continue
        origin = origin_of(policy, branch, tips)
        return (tips[origin], origin) if origin else (rev, None)
    return home, None


def judging_rev(repo: GitRepo, update: RefUpdate) -> str:
    """The target's current tip; for a new branch, see `new_branch_judge`."""
    if not update.is_create and repo.has_object(update.old):
        return update.old
    return new_branch_judge(repo, update.branch or update.ref, repo.local_branches(), "HEAD")[0]


def split_by_policy(repo: GitRepo, push: Push) -> Iterator[tuple[Policy, str, Push]]:
    """The push's updates grouped by the committed policy that judges them."""
    groups: dict[str, list[RefUpdate]] = {}
    for update in push.updates:
        groups.setdefault(judging_rev(repo, update), []).append(update)
    # Revisions whose committed policies say the same are judged together, so that rules see
    # the whole push (a release deleted by the push that merges it into main).
    judged: list[tuple[Policy, str, list[RefUpdate]]] = []
    for rev, updates in groups.items():
        policy = load_policy_at(repo, rev)
        same = next((j for j in judged if j[0].document == policy.document), None)
        if same is None:
            judged.append((policy, rev, list(updates)))
        else:
            same[2].extend(updates)
    for policy, rev, updates in judged:
        yield policy, rev, Push(tuple(updates), push.remote, push.url)


def policy_change_note(repo: GitRepo, base: str | None, tip: str | None) -> str | None:
    """A note when the commits from `base` to `tip` edit the policy file, which does not
    judge them."""
    if not base or not tip or tip == ZERO_SHA or base == ZERO_SHA:
        return None
    out = repo.git("diff", "--name-only", "-z", base, tip, "--", POLICY_FILE, check=False)
    if not out.strip(b"\0"):
        return None
    return (f"the incoming commits change {POLICY_FILE}; they are judged by the policy "
            f"committed at {base[:12]}, and the change applies once it is merged")


def policy_changes(repo: GitRepo, push: Push) -> list[str]:
    """Notes for the updates whose incoming commits edit the policy file."""
    notes = []
    for update in push.updates:
        if update.is_delete or not repo.has_object(update.old):
            continue
        note = policy_change_note(repo, update.old, update.new)
        if note:
            notes.append(f"{update.ref}: {note}")
    return notes
