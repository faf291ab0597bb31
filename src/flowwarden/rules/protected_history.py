"""protected-history: every commit a push adds to a protected branch is an allowed merge."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.adapters.git import Commit
from flowwarden.adapters.git.messages import squashed_request
from flowwarden.adapters.git.plumbing import rewrites
from flowwarden.core.records import Event, Push, RefUpdate, Violation
from flowwarden.core.stages import PUSH_STAGES, Stage
from flowwarden.facts.provenance import Evidence, context_of
from flowwarden.policy.model import BranchKind
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import shell_word


class ProtectedHistory(Rule):
    id = "protected-history"
    summary = ("Every commit a push adds to a protected branch's first-parent chain is an "
               "allowed merge.")
    stages = PUSH_STAGES
    events = (Push,)
    doc = """\
**What it does.** At push, CI and pre-receive, walks the commits the push adds to a protected
branch's first-parent chain. Each must land the way the branch's `merge_methods` allow: a
merge commit whose merged branch is of a kind allowed into that branch, a squash merge
(`Title (#12)`), or (with `rebase`) any commit. Where a merge came from is established from
evidence: a branch that holds the merged commit (on the server, or created or deleted by the
same push), a tag naming a release's merge (git-flow AVH's back-merge into develop). The
subject is a hint: when it alone names the source and the verdict turns on it, `merges:
subject_only` decides (refused at push, pre-receive and ci, accepted in audits by default) and
the output notes each verdict that rests on a subject; a subject claiming a source that may
not merge there (`Merge branch 'cleanup'`) is refused everywhere. A merge of the branch into
itself (`git pull`'s `Merge branch 'main' of ...`, or master on main) passes only when the merged
commit already was on the branch. A protected branch may take another's first-parent line
where that one merged an allowed branch (develop merging main's release merge, tag or not).
A merge of a history that shares no commit with the branch, and that no ref holds, is
refused. Root commits are allowed.

**Why it matters.** Local hooks can be skipped with `--no-verify`, a fast-forward merge runs
no blocking hook at all, and a subject is text anyone can write: this is where such commits
are caught.

**Example.** `git switch main && git merge feature/x` (fast-forward), `git push`:
`protected-history: 3f2a1c9 on main is not a merge ("add model")`.

**Fix.** Put main back and merge properly:
`git switch main && git reset --keep origin/main`, then
`git switch develop && git merge --no-ff feature/x`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        assert isinstance(event, Push)
        for update in event.updates:
            kind = ctx.policy.kind_of(update.branch)
            if kind is None or not kind.protected or update.is_delete:
                continue
            found = self._check_update(update, kind, event, ctx)
            if ctx.stage is not Stage.CI and _rewrite_refused(update, event, ctx):
                # One fix per update: force-push's puts the branch back at the published tip,
                # which none of these commits reach; a second fix here would contradict it.
                found = (v._replace(fix=f"nothing more to run: force-push's fix puts "
                                        f"{shell_word(update.branch or '')} back at "
                                        f"{update.old[:12]}") for v in found)
            yield from found

    def notes(self, event: Event, ctx: Context) -> tuple[str, ...]:
        return ctx.facts.provenance.drain_notes()

    def _check_update(self, update: RefUpdate, kind: BranchKind, push: Push,
                      ctx: Context) -> Iterator[Violation]:
        branch = update.branch or ""
        remote = push.remote or "origin"
        if update.is_create:  # no tip to go back to: the branch itself must start elsewhere
            reset = (f"start {shell_word(branch)} from a commit a {_origins(kind)} branch "
                     "holds, then")
        elif ctx.stage in (Stage.PRE_PUSH, Stage.PRE_RECEIVE):  # refused: the tip stands
            reset = (f"git fetch {shell_word(remote)} && git switch {shell_word(branch)} && "
                     f"git reset --keep {shell_word(f'{remote}/{branch}')}  # then")
        else:  # landed: only the server can take it back
            reset = (f"have {shell_word(branch)} put back at {update.old[:12]} on the server "
                     "(a force push by a maintainer), then")
        direct: list[Commit] = []
        for commit in ctx.facts.history.branch_additions(update, push):
            if not commit.parents:
                continue
            if commit.is_merge:
                found = self._merge(commit, branch, kind, push, ctx, reset)
                if found is not None:
                    yield found._replace(commits=(commit.sha,))
                continue
            number = squashed_request(commit.message)
            if number is not None and "squash" in kind.merge_methods:
                ctx.facts.provenance.rests_on_subject(
                    commit, branch, f"squash merge of pull request #{number} (its subject)")
            elif number is not None:
                yield self.violation(
                    branch, f"{commit.sha[:10]} on {branch} is a squash merge of pull request "
                    f"#{number} ({_quoted(commit)}), not accepted here: {branch} accepts "
                    f"{_methods(kind)}", f"{reset} merge the pull request with a merge "
                    f"commit (or add squash to {kind.name}'s merge_methods in the policy)",
                    commits=(commit.sha,))
            elif "rebase" not in kind.merge_methods:
                direct.append(commit)
        if direct:
            first = direct[-1]
            more = f" and {len(direct) - 1} more" if len(direct) > 1 else ""
            child = next((k.name for k in ctx.policy.kinds if kind.name in k.origins
                          and not k.protected), "feature")
            carrier = shell_word(f"{child}/from-{branch}-{update.new[:7]}")
            keep = (f"git branch -f {carrier} {update.new[:12]} && {reset} merge {carrier} with "
                    f"--no-ff and push both" if reset.startswith("git ") else
                    f"{reset} merge {update.new[:12]} through a {child} branch with --no-ff")
            yield self.violation(
                branch, f"{first.sha[:10]}{more} on {branch} {'is' if not more else 'are'} not "
                f"a merge ({_quoted(first)}): {branch} is protected and changes only "
                f"through merges (a fast-forward merge or a --no-verify commit?)", keep,
                commits=tuple(c.sha for c in direct))

    def _merge(self, commit: Commit, branch: str, kind: BranchKind, push: Push, ctx: Context,
               reset: str) -> Violation | None:
        """The violation of one merge on `branch`, None when it is allowed."""
        if len(commit.parents) > 2:  # evidence names one merged branch, not several
            return self.violation(
                branch, f"{commit.sha[:10]} on {branch} is an octopus merge of "
                f"{len(commit.parents) - 1} branches ({_quoted(commit)}): a protected branch "
                "takes one branch per merge, so each can be judged", f"{reset} merge each "
                "branch on its own, with --no-ff")
        policy = ctx.policy
        provenance = ctx.facts.provenance
        evidence = provenance.source(commit, push)
        source = evidence.branch
        source_kind = policy.kind_of(source)
        allowed = source_kind is not None and policy.merge_allowed(source_kind, kind)
        if "merge" not in kind.merge_methods:
            return self.violation(
                branch, f"{commit.sha[:10]} on {branch} is a merge commit ({_quoted(commit)}), "
                f"not accepted here: {branch} accepts {_methods(kind)}",
                f"{reset} land the change as {kind.merge_methods[0]}")
        parents = commit.parents
        if source is not None and (source == branch or source_kind is kind):
            return self._self_merge(commit, branch, kind, push, ctx, reset, evidence)
        if not allowed:  # a protected branch's merge it accepted brings what that merge did
            through = provenance.through_line(parents[1], push)
            through_kind = policy.kind_of(through.branch) if through else None
            if through_kind is not None and policy.merge_allowed(through_kind, kind):
                return None
        if evidence.proven:
            if allowed:
                return None
            claim = (f"; its subject claims {evidence.claimed}" if evidence.claimed else "")
            return self.violation(
                branch, f"{commit.sha[:10]} on {branch} merges {source} "
                f"({source_kind.name if source_kind else 'no kind'}), as {evidence.detail} "
                f"shows{claim}; "
                f"{branch} accepts merges from {policy.accepted_sources(kind)}",
                f"{reset} merge through an allowed branch")
        if provenance.unrelated(parents[0], parents[1]):
            return self.violation(
                branch, f"{commit.sha[:10]} on {branch} merges {parents[1][:10]}, a history "
                f"that shares no commit with {branch} and that no branch holds "
                f"({_quoted(commit)}): a forged or unrelated merge",
                f"{reset} merge a branch that comes from {branch}'s history and is pushed")
        if source is not None and not allowed:  # the subject's own claim is a violation
            return self.violation(
                branch, f"{commit.sha[:10]} on {branch} merges {source} "
                f"({source_kind.name if source_kind else 'no kind'}): {evidence.detail}, and "
                f"a merge of {source} is not allowed here whatever else is known; {branch} "
                f"accepts merges from {policy.accepted_sources(kind)}",
                f"{reset} merge through an allowed branch")
        if policy.accepts_any_unprotected(kind):
            return None  # whichever unprotected branch it was, it was allowed
        if policy.merges.subject_only(context_of(ctx.stage, push)):
            provenance.rests_on_subject(
                commit, branch, f"merges {source or 'a branch nothing names'} "
                f"({evidence.detail})")
            return None
        return self.violation(
            branch, f"{commit.sha[:10]} on {branch}: {_missing(evidence, kind, ctx)}",
            _push_first(commit, evidence, remote=push.remote or "origin") if ctx.stage
            is not Stage.CI else _evidence_in_ci(branch))

    def _self_merge(self, commit: Commit, branch: str, kind: BranchKind, push: Push,
                    ctx: Context, reset: str, evidence: Evidence) -> Violation | None:
        """A merge of `branch` (or another name of its kind: master on main) into itself, as
        `git pull` writes it: fine when the merged commit already is on `branch`, else its
        commits reach `branch` without a review."""
        parent = commit.parents[1]
        update = next(u for u in push.updates if u.branch == branch)
        if ctx.facts.provenance.on_branch(parent, update.old):
            return None
        child = next((k.name for k in ctx.policy.kinds if kind.name in k.origins
                      and not k.protected), "feature")
        carrier = shell_word(f"{child}/from-{branch}-{parent[:7]}")
        fix = (f"git branch -f {carrier} {parent[:12]} && {reset} push {carrier}, merge it "
               f"with --no-ff and push {shell_word(branch)}" if reset.startswith("git ") else
               f"{reset} bring {parent[:12]}'s commits through a {child} branch merged with "
               "--no-ff")
        return self.violation(
            branch, f"{commit.sha[:10]} on {branch} merges {evidence.branch} into "
            f"{branch} itself ({_quoted(commit)}), but {parent[:10]} was not on {branch} "
            f"before: its commits reach {branch} unreviewed (a `git pull` of commits nobody "
            f"pushed through a {child} branch?)", fix)


def _missing(evidence: Evidence, kind: BranchKind, ctx: Context) -> str:
    accepted = ctx.policy.accepted_sources(kind)
    if evidence.branch is None:
        return (f"no evidence of where this merge came from: {evidence.detail}; "
                f"{kind.name} accepts merges from {accepted} only")
    return (f"no evidence that this merge came from {evidence.branch}: {evidence.detail}, and "
            f"{kind.name} accepts merges from {accepted} only (merges: subject_only: refuse)")


def _evidence_in_ci(branch: str) -> str:
    """In CI the push has landed, and its merged branch is often deleted already (a forge
    deletes head branches on merge): recreating it is no fix, so say what gives evidence."""
    return (f"run this check on the pull request (its source branch is the evidence), or keep "
            f"merged branches until CI has run, or, where the forge already requires pull requests "
            f"into {shell_word(branch)}, set merges.subject_only: {{ci: accept}} in the policy on "
            f"{shell_word(branch)}")


def _push_first(commit: Commit, evidence: Evidence, remote: str) -> str:
    parent = commit.parents[1]
    if evidence.branch is None:
        return (f"push the merged branch under its name first (git push {shell_word(remote)} "
                f"{parent[:12]}:refs/heads/<branch>), then push again")
    target = shell_word(f"{parent}:refs/heads/{evidence.branch}")
    return f"git push {shell_word(remote)} {target}  # the merged branch first, then push again"


def _rewrite_refused(update: RefUpdate, push: Push, ctx: Context) -> bool:
    """Whether force-push refuses `update` as a rewrite of published commits, its fix putting
    the branch back at the published tip (a forced non-fast-forward)."""
    if update.is_create or update.old == update.new or push.forced is False \
            or not ctx.repo.has_object(update.old):
        return False
    return not ctx.repo.is_ancestor(update.old, update.new) \
        and rewrites(ctx.repo, update.old, update.new)


def _origins(kind: BranchKind) -> str:
    return " or ".join(kind.origins) if kind.origins else "reviewed"


def _quoted(commit: Commit) -> str:
    subject = commit.subject[:60]
    return '"' + subject.replace('"', "'") + '"'


def _methods(kind: BranchKind) -> str:
    return "merge_methods: [" + ", ".join(kind.merge_methods) + "]"


RULE = ProtectedHistory()
