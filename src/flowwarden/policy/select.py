"""Which committed policy judges a ref update on a server or in CI: never the incoming one.

Only the protected branches' policy is trusted: admins write it and it changes only through
reviewed merges. A protected branch's update is judged by its own tip before the push; every
other ref (an unprotected branch, new or not, a tag, refs/notes) by the protected branch it
comes from, never by a policy the pusher wrote.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple

from flowwarden.adapters.git import GitRepo
from flowwarden.core.records import ZERO_SHA, Event, Push, RefUpdate
from flowwarden.core.stages import Stage
from flowwarden.policy.load import POLICY_FILE, load_policy_at
from flowwarden.policy.model import Policy


class Judge(NamedTuple):
    """The revision whose committed policy judges a branch, and why."""

    rev: str
    origin: str | None  # the protected branch it comes from, when that one judges
    protected: bool  # the branch is itself of a protected kind


def origin_of(policy: Policy, branch: str, tips: Mapping[str, str]) -> str | None:
    """The first existing protected branch (by name) of a kind `branch` may come from,
    through unprotected kinds: a feature's develop, an experiment's develop."""
    kind = policy.kind_of(branch)
    for origin_kind in policy.origin_kinds(kind) if kind else ():
        for name in sorted(origin_kind.tips_in(tips)):
            if name != branch:
                return name
    return None


def branch_judge(repo: GitRepo, branch: str, tips: Mapping[str, str], home: str) -> Judge:
    """Who judges `branch`: the first protected branch whose committed policy knows its kind
    says where it comes from (a kind added on develop is known there before a release carries
    it to main); that origin's tip judges. `home` is the default branch's revision, asked
    first, and judges what no protected policy names."""
    base = load_policy_at(repo, home)
    candidates = [home, *(sha for kind in base.protected_kinds
                          for _, sha in sorted(kind.tips_in(tips).items()))]
    for rev in candidates:
        policy = base if rev == home else load_policy_at(repo, rev)
        kind = policy.kind_of(branch)
        if kind is None:
            continue
        origin = origin_of(policy, branch, tips)
        return Judge(tips[origin] if origin else rev, origin, kind.protected)
    return Judge(home, None, False)


def home(repo: GitRepo) -> str:
    """The default branch's revision: HEAD, or, where HEAD names no commit (a bare
    repository made with another default branch name than the team's, `master` for `main`),
    the tip of the first existing branch of a protected kind (main before develop), so that
    tags and other refs are never judged by the preset while the team's policy exists."""
    if repo.head() is not None:
        return "HEAD"
    preset = load_policy_at(repo, "HEAD")  # HEAD names nothing: this is the preset
    tips = repo.local_branches()
    return next((sha for kind in preset.protected_kinds
                 for _, sha in sorted(kind.tips_in(tips).items())), "HEAD")


def judging_rev(repo: GitRepo, update: RefUpdate) -> str:
    """A protected branch's own tip before the push; a tag or another ref: the default
    branch (`home`); any other branch: see `branch_judge`."""
    if update.branch is None:
        return home(repo)
    judge = branch_judge(repo, update.branch, repo.local_branches(), home(repo))
    if judge.protected and not update.is_create and repo.has_object(update.old):
        return update.old
    return judge.rev


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


#: How a note says the incoming commits edit the policy (CI then draws the proposed flow).
CHANGES_POLICY = f"the incoming commits change {POLICY_FILE}"


def policy_change_note(repo: GitRepo, base: str | None, tip: str | None,
                       judge: str | None = None) -> str | None:
    """A note when the commits from `base` to `tip` edit the policy file, which does not
    judge them (the policy committed at `judge`, `base` by default, does)."""
    if not base or not tip or tip == ZERO_SHA or base == ZERO_SHA:
        return None
    out = repo.git("diff", "--name-only", "-z", base, tip, "--", POLICY_FILE, check=False)
    if not out.strip(b"\0"):
        return None
    if judge is None:
        judge = base
    else:
        judge = repo.rev_parse(judge) or judge
    return (f"{CHANGES_POLICY}; they are judged by the policy "
            f"committed at {judge[:12]}, and the change applies once it is merged")


def policy_changes(repo: GitRepo, push: Push) -> list[str]:
    """Notes for the updates whose incoming commits edit the policy file."""
    from flowwarden.adapters.git.plumbing import object_ids

    notes = []
    updates = [u for u in push.updates if not u.is_delete and repo.has_object(u.old)]
    ids = object_ids(repo, [f"{sha}:{POLICY_FILE}" for u in updates for sha in (u.old, u.new)])
    for update in updates:
        if ids.get(f"{update.old}:{POLICY_FILE}") == ids.get(f"{update.new}:{POLICY_FILE}"):
            continue  # the file is the same at both ends: one query for all, no diff each
        note = policy_change_note(repo, update.old, update.new, judging_rev(repo, update))
        if note:
            notes.append(f"{update.ref}: {note}")
    return notes


def commands_policy(stage: Stage, repo: GitRepo, events: list[Event]) -> Policy | None:
    """At a local merge the work tree holds the incoming branch's policy: the checks that run
    come from the target's committed one (HEAD, before the merge commit) instead. At a push,
    from what the remote holds for the pushed branch (for an unprotected one, for the
    protected branch it comes from)."""
    if stage is Stage.PRE_PUSH:
        return _pushed_commands(repo, events)
    if stage not in (Stage.PRE_MERGE_COMMIT, Stage.PRE_COMMIT) or repo.head() is None:
        return None
    if stage is Stage.PRE_COMMIT and repo.merge_head() is None:
        return None
    return load_policy_at(repo, "HEAD")


def _pushed_commands(repo: GitRepo, events: list[Event]) -> Policy | None:
    push = next((e for e in events if isinstance(e, Push)), None)
    branch = next((u.branch for u in push.updates if u.branch and not u.is_delete), None) \
        if push is not None else None
    if push is None or not push.remote or branch is None:
        return None
    tips = repo.remote_branches(push.remote)
    home = next((tips[name] for name in ("main", "master", "develop") if name in tips), None)
    if home is None:
        return None
    judge = branch_judge(repo, branch, tips, home)
    return load_policy_at(repo, tips[branch] if judge.protected and branch in tips
                          else judge.rev)
