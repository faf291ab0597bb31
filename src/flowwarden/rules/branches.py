"""Rules about branches themselves: their names, where they come from, when they may go."""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from flowwarden.engine import tips_after
from flowwarden.model import (
    BranchCreated,
    BranchQuery,
    CommitAttempt,
    Event,
    Push,
    Stage,
    Violation,
)
from flowwarden.policy.model import BranchKind, Policy
from flowwarden.rules.base import Context, Rule

PUSH_STAGES = frozenset({Stage.PRE_PUSH, Stage.PRE_RECEIVE, Stage.CI})


def suggest_name(branch: str, policy: Policy) -> str:
    """A legal name close to `branch`: lower-cased, odd characters replaced, a kind prefix."""
    cleaned = re.sub(r"[^a-z0-9._/-]+", "-", branch.lower()).strip("-/")
    if policy.kind_of(cleaned):
        return cleaned
    topic = re.sub(r"[^a-z0-9._-]+", "-", cleaned.rsplit("/", 1)[-1]).strip("-.") or "topic"
    prefix = cleaned.split("/", 1)[0] if "/" in cleaned else "feature"
    for name in (prefix, "feature"):
        if policy.kind_of(f"{name}/{topic}"):
            return f"{name}/{topic}"
    return f"feature/{topic}"


def kinds_summary(policy: Policy) -> str:
    return ", ".join(f"{k.name} ({k.pattern})" for k in policy.kinds)


class BranchName(Rule):
    id = "branch-name"
    summary = "Every branch name matches one of the policy's branch kinds."
    stages = frozenset({Stage.PRE_COMMIT, Stage.POST_CHECKOUT, Stage.CHECK} | PUSH_STAGES)
    events = (CommitAttempt, BranchCreated, BranchQuery, Push)
    doc = """\
**What it does.** Checks that a branch's short name fully matches the `pattern` of one of the
policy's branch kinds (`main|master`, `develop`, `feature/...`, `experiment/...`,
`release/X.Y.Z`, `hotfix/...` in `gitflow-ml`).

**Why it matters.** Every other rule decides by kind: a branch no kind matches escapes the flow,
its merges cannot be judged, and teammates cannot tell what it is for.

**Example.** `git switch -c Login-Fix` then `git commit`:
`branch-name: Login-Fix matches no branch kind`.

**Fix.** Rename the branch: `git branch -m Login-Fix feature/login-fix`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        for branch in self._branches(event):
            if ctx.policy.kind_of(branch) is None:
                yield self.violation(
                    branch, f"{branch} matches no branch kind; expected one of: "
                    f"{kinds_summary(ctx.policy)}",
                    f"git branch -m {branch} {suggest_name(branch, ctx.policy)}")

    @staticmethod
    def _branches(event: Event) -> list[str]:
        if isinstance(event, (CommitAttempt, BranchCreated, BranchQuery)):
            return [event.branch] if event.branch else []
        if isinstance(event, Push):
            return [u.branch for u in event.updates if u.branch and not u.is_delete]
        return []


def origin_kinds(kind: BranchKind, policy: Policy) -> tuple[BranchKind, ...]:
    """The protected kinds `kind` may (transitively, through unprotected kinds) come from."""
    seen: set[str] = set()
    out: list[BranchKind] = []
    todo = list(kind.origins)
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        origin = policy.kind(name)
        if origin is None:
            continue
        if origin.protected:
            out.append(origin)
        else:
            todo.extend(origin.origins)
    return tuple(out)


def tips_of(kind: BranchKind, tips: Mapping[str, str]) -> dict[str, str]:
    return {name: sha for name, sha in tips.items() if kind.matches(name)}


class BranchOrigin(Rule):
    id = "branch-origin"
    summary = "A branch carries no commits from a long-lived branch it may not come from."
    stages = frozenset({Stage.POST_CHECKOUT, Stage.CHECK} | PUSH_STAGES)
    events = (BranchCreated, BranchQuery, Push)
    doc = """\
**What it does.** For a branch of kind K, looks at every protected (long-lived) branch that is
not among K's allowed origins (`from:`) and reports commits the branch shares with it that are
not on an allowed origin: a hotfix carrying develop-only work, a feature carrying main-only
commits.

**Why it matters.** A hotfix cut from develop ships unreleased work to production when it
merges into main; a feature cut from main reintroduces what develop already replaced.

**Example.** `git switch -c hotfix/crash develop`, push:
`branch-origin: hotfix/crash carries 3 commits from develop that are not on main`.

**Fix.** Move the branch onto its origin: `git rebase --onto main develop hotfix/crash`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if isinstance(event, Push):
            tips = tips_after(ctx, event)
            for update in event.updates:
                if update.branch and not update.is_delete:
                    yield from self._check(update.branch, update.new, tips, ctx)
        elif isinstance(event, (BranchCreated, BranchQuery)):
            head = event.head if isinstance(event, BranchCreated) else None
            tips = dict(ctx.repo.local_branches())
            for name, tip in ctx.repo.branch_tips.items():
                short = name.split("/", 2)[-1] if name.startswith("remotes/") else name
                tips.setdefault(short, tip)
            sha = head or tips.get(event.branch) or ctx.repo.rev_parse(event.branch)
            if sha:
                yield from self._check(event.branch, sha, tips, ctx)

    def _check(self, branch: str, sha: str, tips: Mapping[str, str],
               ctx: Context) -> Iterator[Violation]:
        kind = ctx.policy.kind_of(branch)
        if kind is None or kind.protected or not kind.origins:
            return
        origins = origin_kinds(kind, ctx.policy)
        origin_tips = [t for o in origins for t in tips_of(o, tips).values()]
        if not origin_tips:
            return
        for other in ctx.policy.protected_kinds:
            if other in origins:
                continue
            for other_name, other_sha in tips_of(other, tips).items():
                stray = [b for b in ctx.repo.merge_bases(sha, other_sha)
                         if not any(ctx.repo.is_ancestor(b, t) for t in origin_tips)]
                # A shared commit that reached `other` through a merge (this branch merged into
                # it, as a release into main) is the branch's own; only one on `other`'s own
                # first-parent line was taken from it.
                own_line = _first_parent_line(ctx, other_sha, origin_tips) if stray else set()
                stray = [b for b in stray if b in own_line]
                if not stray:
                    continue
                count = ctx.repo.count(stray, origin_tips)
                origin_name = next(n for o in origins for n in tips_of(o, tips))
                yield self.violation(
                    branch, f"{branch} carries {count} commit{'s' if count != 1 else ''} from "
                    f"{other_name} that {'are' if count != 1 else 'is'} not on "
                    f"{' or '.join(o.name for o in origins)}; a {kind.name} branch may come from "
                    f"{', '.join(kind.origins)}",
                    f"git rebase --onto {origin_name} {other_name} {branch}")


def _first_parent_line(ctx: Context, tip: str, origin_tips: list[str]) -> set[str]:
    """`tip`'s first-parent commits that no origin has (main's release merges, say)."""
    key = f"fp-line:{tip}:{','.join(sorted(origin_tips))}"
    if key not in ctx.cache:
        ctx.cache[key] = {c.sha for c in ctx.repo.commits([tip], origin_tips, first_parent=True)}
    line: set[str] = ctx.cache[key]
    return line


class BranchDelete(Rule):
    id = "branch-delete"
    summary = ("Protected branches are never deleted; release and hotfix branches only after "
               "they reached every merge target.")
    stages = PUSH_STAGES
    events = (Push,)
    doc = """\
**What it does.** Refuses a push that deletes a protected branch, and one that deletes a
branch of a kind with `reach_before_delete: true` (release and hotfix in `gitflow-ml`) whose
tip is not yet contained in every one of its `into` targets.

**Why it matters.** A deleted main loses production's history; a release deleted before it
was merged back into develop silently drops its fixes from the next release.

**Example.** `git push origin --delete release/1.2.0` before merging it into develop:
`branch-delete: release/1.2.0 has not reached develop`.

**Fix.** Merge first, then delete:
`git switch develop && git merge --no-ff release/1.2.0 && git push origin develop`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        assert isinstance(event, Push)
        deletes = [u for u in event.updates if u.is_delete and u.branch]
        if not deletes:
            return
        tips = tips_after(ctx, event)
        remote = event.remote or "origin"
        for update in deletes:
            branch = update.branch or ""
            kind = ctx.policy.kind_of(branch)
            if kind is None:
                continue
            if kind.protected:
                yield self.violation(
                    branch, f"{branch} is protected ({kind.name}) and may not be deleted",
                    "none: keep the branch; change the policy if it really must go")
                continue
            if not ctx.policy.document["branches"][kind.name].get("reach_before_delete"):
                continue
            yield from self._unreached(branch, update.old, kind, tips, remote, ctx)

    def _unreached(self, branch: str, sha: str, kind: BranchKind, tips: Mapping[str, str],
                   remote: str, ctx: Context) -> Iterator[Violation]:
        known = ctx.repo.has_object(sha)
        for target_name in kind.into:
            target = ctx.policy.kind(target_name)
            if target is None:
                continue
            targets = tips_of(target, tips)
            if known and any(ctx.repo.is_ancestor(sha, t) for t in targets.values()):
                continue
            into = next(iter(targets), target_name)
            yield self.violation(
                branch, f"{branch} has not reached {into} yet; a {kind.name} branch must be "
                f"merged into {' and '.join(kind.into)} before it is deleted",
                f"git switch {into} && git merge --no-ff {branch} && git push {remote} {into}")


RULES: tuple[Rule, ...] = (BranchName(), BranchOrigin(), BranchDelete())
