"""Facts about history: what a push adds, to which first-parent line, and the tips after it.

An audit walks the protected branches once (`walk`) and adopts the walk: each step's push
then brings exactly the commits no earlier step brought, answered from memory. A server
judging a push of many refs reads the history once too (`preload`): the git processes a push
costs do not grow with its refs.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

from flowwarden.adapters.git import Commit, CommitGraph, GitRepo
from flowwarden.adapters.git.objects import peel
from flowwarden.core.records import ZERO_SHA, Push, RefUpdate
from flowwarden.core.stages import Stage
from flowwarden.facts.memo import memoized

#: From this many ref updates on, a pre-receive reads the history once (`preload`) instead
#: of asking git a few questions per ref: below it those questions cost less than reading a
#: long history (one ref: about 7 git processes of ~4 ms; 100,000 commits: ~1 s to read).
FANOUT = 8


def preload(repo: GitRepo, push: Push) -> bool:
    """For a push of FANOUT refs or more: read every commit the pushed tips, the refs' old
    values and the server's branches reach, with one `git log`, so that every ancestry
    question about the push (new commits, merge bases, is-ancestor, counts) is answered in
    memory. True when it did. Memory grows with the server's history, not the refs: an
    audit holding 24,601 commits in the same graph peaks at 72 MB."""
    if len(push.updates) < FANOUT:
        return False
    peeled = peel(repo.git, (s for u in push.updates for s in (u.new, u.old) if s != ZERO_SHA))
    repo.remember_peeled(peeled)  # pushed tags: no `cat-file -e` or `rev-parse` each
    tips = [sha for sha, kind in peeled.values() if kind == "commit"]
    repo.load_graph(dict.fromkeys([*tips, *repo.local_branches().values()]))
    return True


class Step(NamedTuple):
    """One first-parent step of a protected branch, judged as the push that made it."""

    branch: str
    parent: str  # the branch's tip before the step
    commit: Commit  # its tip after it
    brought: tuple[Commit, ...]  # what it is the first step to bring, newest first

    @property
    def update(self) -> RefUpdate:
        return RefUpdate(f"refs/heads/{self.branch}", self.parent, self.commit.sha)


def walk(graph: CommitGraph, branches: Sequence[tuple[str, str]]) -> list[Step]:
    """Every first-parent step of `branches` (name, tip), oldest first, each once: a step on
    two lines belongs to the first branch listed. Each commit is brought by one step only,
    the oldest that reaches it, so each finding is reported once, where it came in."""
    owner: dict[str, tuple[str, Commit]] = {}
    for name, tip in branches:
        for commit in graph.first_parent_line(tip):
            if commit.parents:
                owner.setdefault(commit.sha, (name, commit))
    seen: set[str] = set()
    steps = []
    for sha in sorted(owner, key=graph.order.__getitem__, reverse=True):
        name, commit = owner[sha]
        steps.append(Step(name, commit.parents[0], commit, _bring(graph, commit, seen)))
    return steps


def _bring(graph: CommitGraph, commit: Commit, seen: set[str]) -> tuple[Commit, ...]:
    """`commit` and its ancestors not in `seen` (now added to it), newest first."""
    brought, stack = [], [commit.sha]
    seen.add(commit.sha)
    while stack:
        found = graph.by_sha.get(stack.pop())
        if found is None:  # below the audit's lower bound
            continue
        brought.append(found)
        for parent in found.parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    brought.sort(key=lambda c: graph.order[c.sha])
    return tuple(brought)


class HistoryFacts:
    """Commit walks for one run, each asked of git once."""

    def __init__(self, repo: GitRepo, stage: Stage,
                 protected: Callable[[str], bool] = lambda _: True) -> None:
        self.repo = repo
        self.stage = stage
        self.protected = protected  # branch name -> of a protected kind
        self._steps: dict[tuple[str, str], Step] = {}

    def adopt(self, steps: Iterable[Step]) -> None:
        """Answer for these steps from an audit's walk instead of asking git."""
        self._steps.update(((s.parent, s.commit.sha), s) for s in steps)
        self.repo.expect_changes(c.sha for s in self._steps.values() for c in s.brought)

    @memoized
    def new_commits(self, update: RefUpdate, push: Push) -> tuple[Commit, ...]:
        """Commits `update` brings that the receiving side does not have yet, newest first."""
        step = self._steps.get((update.old, update.new))
        if step is not None:
            return step.brought
        if update.is_delete:
            return ()
        stop = self._preloaded(update, push)
        if stop is not None:
            return tuple(self.graph.line(self._peeled(push)[update.new], stop, False))
        found = tuple(self.repo.commits([update.new], self._known(update),
                                        exclude_refs=self._known_refs(push)))
        self.repo.remember(found)  # so merges among them are related without a git each
        return found

    @memoized
    def branch_additions(self, update: RefUpdate, push: Push) -> tuple[Commit, ...]:
        """The commits `update` adds to its branch's first-parent chain, newest first."""
        step = self._steps.get((update.old, update.new))
        if step is not None:
            return (step.commit,)
        if update.is_delete:
            return ()
        # Rules judging these merges ask how their parents relate: the new commits answer.
        self.new_commits(update, push)
        stop = self._preloaded(update, push) if update.is_create else None
        if stop is not None:
            return tuple(self.graph.line(self._peeled(push)[update.new], stop, True))
        if update.is_create:
            return tuple(self.repo.commits([update.new], first_parent=True,
                                           exclude_refs=self._known_refs(push)))
        return tuple(self.repo.commits([update.new], self._known(update), first_parent=True))

    @memoized
    def first_parent_line(self, tip: str, exclude: tuple[str, ...]) -> frozenset[str]:
        """`tip`'s first-parent commits that none of `exclude` has."""
        return frozenset(c.sha for c in self.repo.commits([tip], exclude, first_parent=True))

    @memoized
    def tips_after(self, push: Push) -> Mapping[str, str]:
        """Branch tips as the receiving side will have them once `push` lands."""
        if push.remote and push.remote in self.repo.remotes:
            tips = self.repo.remote_branches(push.remote)
        else:
            tips = dict(self.repo.local_branches())
        for update in push.updates:
            if update.branch is None:
                continue
            if update.new == ZERO_SHA:
                tips.pop(update.branch, None)
            else:
                tips[update.branch] = update.new
        return MappingProxyType(tips)  # the same each time: asked by identity

    @memoized
    def tips_before(self, push: Push) -> Mapping[str, str]:
        """Branch tips the receiving side holds before `push`; a branch the push creates is
        left out (a CI clone's origin/<branch> already is the pushed tip)."""
        if push.remote and push.remote in self.repo.remotes:
            tips = self.repo.remote_branches(push.remote)
        else:
            tips = dict(self.repo.local_branches())
        for update in push.updates:
            if update.branch is not None and update.is_create:
                tips.pop(update.branch, None)
        return MappingProxyType(tips)

    @property
    def graph(self) -> CommitGraph:
        assert self.repo.graph is not None
        return self.repo.graph

    def _preloaded(self, update: RefUpdate, push: Push) -> frozenset[str] | None:
        """At a pre-receive whose history is loaded (`preload`): what the server already has
        of `update` (its branches' commits, and the ref's old value's); None otherwise."""
        graph = self.repo.graph
        if self.stage is not Stage.PRE_RECEIVE or graph is None or not graph.closed:
            return None
        peeled = self._peeled(push)
        new, old = peeled.get(update.new), peeled.get(update.old)
        if new not in graph or not (update.is_create or old in graph):
            return None
        known = self._on_branches()
        if old is None or old in known:
            return known
        return known | graph.reachable([old], known)

    @memoized
    def _peeled(self, push: Push) -> dict[str, str]:
        """The push's old and new values -> the commits they name (annotated tags peeled)."""
        found = peel(self.repo.git, (s for u in push.updates for s in (u.new, u.old)
                                     if s != ZERO_SHA))
        return {sha: name for sha, (name, kind) in found.items() if kind == "commit"}

    @memoized
    def _on_branches(self) -> frozenset[str]:
        """Every commit the server's branches hold before the push (`--branches`)."""
        return frozenset(self.graph.reachable(self.repo.local_branches().values()))

    def _known(self, update: RefUpdate) -> list[str]:
        if update.is_create or not self.repo.has_object(update.old):
            return []
        return [update.old]

    def _known_refs(self, push: Push) -> tuple[str, ...]:
        """What the receiving side already has: its branches (server) or our copy of them."""
        if self.stage is Stage.PRE_RECEIVE:
            return ("--branches",)
        if push.remote and push.remote in self.repo.remotes:
            if self.stage is Stage.CI:
                return self._protected_tips(push)
            # In a CI clone origin/<branch> already is the pushed tip: it cannot count as known.
            own = tuple(f"--exclude={push.remote}/{u.branch}" for u in push.updates if u.branch)
            return (*own, f"--remotes={push.remote}")
        return ()

    def _protected_tips(self, push: Push) -> tuple[str, ...]:
        """In CI, what the protected branches hold, never whatever other branches the runner
        fetched: a commit on an unjudged branch is still judged when it arrives."""
        pushed = {u.branch for u in push.updates}
        remote = push.remote or ""
        return tuple(f"refs/remotes/{remote}/{name}"
                     for name in sorted(self.repo.remote_branches(remote))
                     if name not in pushed and self.protected(name))
