"""merge-target: a branch merges only into the kinds its policy lists under `into`."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from flowwarden.adapters.git.messages import strip_remote
from flowwarden.core.records import (
    CommitAttempt,
    Event,
    MergeAttempt,
    Violation,
)
from flowwarden.core.stages import CONCLUDED_MERGE_STAGES, MERGE_STAGES, Stage
from flowwarden.policy.model import Policy
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import frozen_fix, merge_fix


class MergeTarget(Rule):
    id = "merge-target"
    summary = "A branch merges only into the kinds its policy lists under `into`."
    stages = MERGE_STAGES | CONCLUDED_MERGE_STAGES
    events = (MergeAttempt, CommitAttempt)
    doc = """\
**What it does.** When a merge is committed (pre-merge-commit, or `git commit` concluding a
conflicted merge), in CI for a pull request, and for `flowwarden check --merge`, checks that
the source branch's kind lists the target's kind under `into`. An unprotected branch may also
catch up with one of its origins (develop into a feature), unless its kind is `frozen` (a
release once cut: develop may not merge into it; a hotfix may).

**Why it matters.** A feature merged straight into main skips release testing; develop merged
into main ships everything unreleased at once.

**Example.** On main: `git merge --no-ff feature/login`:
`merge-target: feature/login may merge into develop, not main`.

**Fix.** `git merge --abort && git switch develop && git merge --no-ff feature/login`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if isinstance(event, CommitAttempt):
            if not event.merge_head or not event.branch:
                return
            source = ctx.facts.merged_branch(event.merge_source, event.merge_head)
            target = event.branch
        elif isinstance(event, MergeAttempt):
            source = ctx.facts.merged_branch(event.source, event.source_sha)
            target = strip_remote(event.target, ctx.repo.remotes)
        else:
            return
        request = "merge request" if ctx.env.get("GITLAB_CI") == "true" else "pull request"
        violation = self.judge(source or "(unknown)", target, ctx.policy, ctx.stage, request,
                               ctx.repo.local_branches())
        if violation is not None:
            yield violation

    def judge(self, source: str, target: str, policy: Policy, stage: Stage,
              request: str = "pull request", branches: Iterable[str] = ()) -> Violation | None:
        target_kind = policy.kind_of(target)
        if target_kind is None or source == target:
            return None
        source_kind = policy.kind_of(source)
        if source_kind is not None and policy.merge_allowed(source_kind, target_kind):
            return None
        if source_kind is not None and target_kind.frozen and \
                source_kind.name in target_kind.origins:
            return self.violation(
                target, f"{target} is frozen: a {target_kind.name} branch takes no catch-up "
                f"merges from {source} ({source_kind.name}) once it is cut; it accepts merges "
                f"from {policy.accepted_sources(target_kind)}",
                frozen_fix(source, target, stage, request))
        fix = merge_fix(source, source_kind, target_kind, policy, stage, request, branches)
        if source_kind is None:
            if not target_kind.protected:
                return None
            return self.violation(
                target, f"{source} matches no branch kind and may not merge into {target}; "
                f"{target} accepts merges from {policy.accepted_sources(target_kind)}", fix)
        allowed = (f"may merge into {', '.join(source_kind.into)}, not {target}"
                   if source_kind.into else
                   f"may not merge into {target}: the policy lets {source_kind.name} branches "
                   "merge into no branch (its kind lists nothing under `into`)")
        return self.violation(
            target, f"{source} {allowed} "
            f"({target} accepts merges from {policy.accepted_sources(target_kind)})", fix)


RULE = MergeTarget()
