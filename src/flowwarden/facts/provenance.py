"""Where a merged commit came from: evidence the judging side holds, the subject only a hint.

A merge commit's subject is text its author chose. What the judging side can check is which
refs hold the merged commit: branches before and after the push (including those the same push
creates or deletes), and tags (git-flow AVH merges a release's tag back into develop).

What each side holds:
- pre-receive: the server's branches before the push, the push's own updates (the old value
  of a branch it deletes included) and the tags, those it pushes included;
- pre-push: the remote-tracking branches (what the server held when last fetched), the push's
  updates, the tags;
- ci (a pushed range): the clone's branches, remote-tracking and local, and its tags;
- audit: every branch and tag of the repository.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from flowwarden.adapters.git import Commit, GitRepo
from flowwarden.adapters.git.messages import MergeInfo, parse_merge_message, strip_remote
from flowwarden.core.records import Push
from flowwarden.core.stages import Stage
from flowwarden.facts.history import HistoryFacts
from flowwarden.facts.memo import memoized
from flowwarden.policy.model import Policy

#: How a source was established; the HINTS are not evidence. (In CI a pull request's source
#: is the request's own: merge-target judges it as a MergeAttempt, not through this module.)
PROVEN = ("ref", "created ref", "deleted ref", "tag")
HINTS = ("subject", "none")
MAX_NOTES = 5  # notes of verdicts resting on a subject, per event


class Evidence(NamedTuple):
    """The branch a merged commit came from, and how that is known."""

    branch: str | None  # short branch name; None when nothing names one
    how: str  # one of PROVEN or HINTS
    detail: str  # for messages: "refs/heads/feature/x at 1a2b3c4d5e"
    claimed: str | None = None  # what the subject claims, when it differs from the evidence

    @property
    def proven(self) -> bool:
        return self.how in PROVEN


class RefView(NamedTuple):
    """The refs the judging side holds for this event."""

    held: Mapping[str, tuple[tuple[str, str], ...]]  # sha -> ((branch, how), ...)
    tags: Mapping[str, tuple[str, ...]] = {}  # commit sha -> the tags naming it
    remotes: tuple[str, ...] = ()  # remote names, to read `origin/feature/x` as feature/x


def merge_evidence(parent: str, message: str, view: RefView,
                   resolve_tag: Callable[[str], Evidence | None] | None = None,
                   names_a_branch: Callable[[str], bool] | None = None) -> Evidence:
    """Where the merge whose second parent is `parent` came from.

    `resolve_tag(sha)` answers for a tagged commit (the back-merge of a release's tag): the
    evidence of the merge the tag names, when that commit is on a protected branch.
    `names_a_branch(word)` reads a custom subject (`Merge release/1.2`) as a hint when no
    forge's or git's subject matches: the first word that is a branch name of some kind.
    """
    claimed = _claimed(parse_merge_message(message), view.remotes)
    if claimed is None and names_a_branch is not None:
        claimed = loose_claim(message, names_a_branch)
    if view.tags.get(parent) and resolve_tag is not None:
        back = resolve_tag(parent)
        if back is not None:
            return back
    held = view.held.get(parent, ())
    if held:
        names = [name for name, _ in held]
        name, how = held[names.index(claimed)] if claimed in names else held[0]
        where = ", deleted by this push," if how == "deleted ref" else ""
        return _found(name, how, f"refs/heads/{name}{where} at {parent[:10]}", claimed)
    if claimed is not None:
        return Evidence(claimed, "subject", f"only the subject {hint_text(message)!r} names "
                        f"{claimed}; no branch or tag holds {parent[:10]}")
    return Evidence(None, "none", f"no branch or tag holds {parent[:10]} and the subject "
                    f"{hint_text(message)!r} names no branch")


def loose_claim(message: str, names_a_branch: Callable[[str], bool]) -> str | None:
    """The first word of a custom merge subject that is a branch name of some kind."""
    for word in hint_text(message).replace("'", " ").replace('"', " ").split():
        word = word.strip("()[]{},.:;`")
        if "/" in word and names_a_branch(word):
            return word
    return None


def _claimed(hint: MergeInfo | None, remotes: tuple[str, ...]) -> str | None:
    if hint is None or hint.source is None or hint.via in ("tag", "commit"):
        return None
    return strip_remote(hint.source, remotes)


def _found(branch: str, how: str, detail: str, claimed: str | None) -> Evidence:
    return Evidence(branch, how, detail, claimed if claimed not in (None, branch) else None)


def hint_text(message: str) -> str:
    """The subject as quoted in messages: its first line, cut to 80 characters."""
    subject = message.lstrip().split("\n", 1)[0].strip()
    return subject if len(subject) <= 80 else subject[:77] + "..."


def context_of(stage: Stage, push: Push) -> str:
    """The `merges.subject_only` context judging `push`: push, receive, ci or audit (an
    audit judges each step as a push without a remote, at the ci stage)."""
    if stage is Stage.PRE_PUSH:
        return "push"
    if stage is Stage.PRE_RECEIVE:
        return "receive"
    return "audit" if stage is Stage.AUDIT or push.remote is None else "ci"


class ProvenanceFacts:
    """The evidence for each merge a push adds, asked of git once per run."""

    def __init__(self, repo: GitRepo, policy: Policy, stage: Stage,
                 history: HistoryFacts) -> None:
        self.repo = repo
        self.policy = policy
        self.stage = stage
        self.history = history
        self._notes: dict[str, str] = {}  # sha -> note, until drained into an outcome

    @memoized
    def view(self, push: Push) -> RefView:
        """The refs that hold commits for this push, as the judging side sees them."""
        base, base_tags = self._held(context_of(self.stage, push), push.remote)
        held = {sha: list(names) for sha, names in base.items()}
        tags = {sha: list(names) for sha, names in base_tags.items()}
        for update in push.updates:
            if update.branch is not None:
                sha, how = ((update.old, "deleted ref") if update.is_delete else
                            (update.new, "created ref" if update.is_create else "ref"))
                held.setdefault(sha, []).append((update.branch, how))
            elif update.ref.startswith("refs/tags/") and not update.is_delete:
                commit = self.repo.rev_parse(update.new)
                if commit:
                    tags.setdefault(commit, []).append(update.ref[len("refs/tags/"):])
        return RefView({sha: tuple(sorted(set(names))) for sha, names in held.items()},
                       {sha: tuple(sorted(set(names))) for sha, names in tags.items()},
                       remotes=self.repo.remotes)

    @memoized
    def _held(self, context: str, remote: str | None
              ) -> tuple[dict[str, tuple[tuple[str, str], ...]], dict[str, tuple[str, ...]]]:
        """The branches and tags the judging side holds before any push: read once a run."""
        held: dict[str, list[tuple[str, str]]] = {}
        if context == "receive":
            for name, sha in self.repo.local_branches().items():
                held.setdefault(sha, []).append((name, "ref"))
        else:
            if remote in self.repo.remotes:
                for name, sha in self.repo.remote_branches(remote or "").items():
                    held.setdefault(sha, []).append((name, "ref"))
            # At pre-push only what the server holds (as last fetched) counts, as it will
            # there; a CI clone's and an audited repository's own branches are the server's.
            for name, sha in self.repo.branch_tips.items():
                if context == "audit" or (context == "ci" and not name.startswith("remotes/")):
                    held.setdefault(sha, []).append((strip_remote(name, self.repo.remotes),
                                                     "ref"))
        tags: dict[str, list[str]] = {}
        for name, sha in self.repo.tags().items():
            tags.setdefault(sha, []).append(name)
        return ({sha: tuple(names) for sha, names in held.items()},
                {sha: tuple(names) for sha, names in tags.items()})

    @memoized
    def source(self, commit: Commit, push: Push) -> Evidence:
        """Where the merge `commit` (one `push` adds to a protected branch) came from."""
        view = self.view(push)
        return merge_evidence(commit.parents[1], commit.message, view,
                              lambda sha: self._through_tag(sha, view, push),
                              self._names_a_branch)

    def _names_a_branch(self, word: str) -> bool:
        return self.policy.kind_of(word) is not None

    def _through_tag(self, sha: str, view: RefView, push: Push) -> Evidence | None:
        return self.through_line(sha, push, view.tags[sha][0])

    @memoized
    def through_line(self, sha: str, push: Push, tag: str | None = None) -> Evidence | None:
        """A merge on a protected branch's first-parent line (a release's merge into main,
        named by a tag or not) stands for what that merge brought: the branch the protected
        branch accepted when it was judged. None when `sha` is no such merge.

        Every tip the judging side holds for a branch counts (a CI clone's local and
        remote-tracking copies alike), so the answer does not turn on which one is newer or
        on whether the push carries the tag."""
        tagged = self.repo.commit(sha)
        if tagged is None or not tagged.is_merge:
            return None
        view = self.view(push)
        tips: dict[str, set[str]] = {}
        for tip, names in view.held.items():
            for name, how in names:
                if how != "deleted ref":
                    tips.setdefault(name, set()).add(tip)
        for name, tip in self.history.tips_after(push).items():
            tips.setdefault(name, set()).add(tip)
        for kind in self.policy.protected_kinds:
            for name in sorted(n for n in tips if kind.matches(n)):
                if not any(sha in self.history.first_parent_line(tip, ())
                           for tip in sorted(tips[name])):
                    continue
                inner = merge_evidence(tagged.parents[1], tagged.message, view,
                                       names_a_branch=self._names_a_branch)
                source_kind = self.policy.kind_of(inner.branch)
                if source_kind is None or not self.policy.merge_allowed(source_kind, kind):
                    return None
                if tag is not None:
                    return Evidence(inner.branch, "tag", f"tag {tag} names {sha[:10]}, the "
                                    f"merge of {inner.branch} into {name}")
                return Evidence(inner.branch, "ref", f"{sha[:10]} is the merge of "
                                f"{inner.branch} into {name} on refs/heads/{name}'s "
                                "first-parent line")
        return None

    def on_branch(self, sha: str, update_old: str) -> bool:
        """`sha` is already on the branch whose value before the push was `update_old`."""
        return (update_old != "0" * 40 and self.repo.has_object(update_old)
                and self.repo.is_ancestor(sha, update_old))

    @memoized
    def unrelated(self, first: str, second: str) -> bool:
        """The two commits share no history (a merge of an unrelated or forged root)."""
        return not self.repo.related(first, second)

    def rests_on_subject(self, commit: Commit, branch: str, what: str) -> None:
        """Record a verdict that only a subject supports, for the outcome's notes."""
        self._notes.setdefault(commit.sha, f"{commit.sha[:10]} on {branch}: {what}")

    def drain_notes(self) -> tuple[str, ...]:
        """The verdicts resting on a subject alone (or on nothing) since the last call: one
        note each (an audit counts them), the sixth and later summed up in one."""
        items = list(self._notes.values())
        self._notes.clear()
        notes = [f"rests on its subject alone: {item}" for item in items[:MAX_NOTES]]
        if len(items) > MAX_NOTES:
            notes.append(f"and {len(items) - MAX_NOTES} more verdicts rest on a subject alone "
                         "(no branch, tag or pull request shows where they came from)")
        return tuple(notes)
