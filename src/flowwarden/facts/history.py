"""Facts about history: what a push adds, to which first-parent line, and the tips after it."""
from __future__ import annotations

from collections.abc import Callable

from flowwarden.adapters.git import Commit, GitRepo
from flowwarden.core.records import ZERO_SHA, Push, RefUpdate
from flowwarden.core.stages import Stage
from flowwarden.facts.memo import memoized


class HistoryFacts:
    """Commit walks for one run, each asked of git once."""

    def __init__(self, repo: GitRepo, stage: Stage,
                 protected: Callable[[str], bool] = lambda _: True) -> None:
        self.repo = repo
        self.stage = stage
        self.protected = protected  # branch name -> of a protected kind

    @memoized
    def new_commits(self, update: RefUpdate, push: Push) -> tuple[Commit, ...]:
        """Commits `update` brings that the receiving side does not have yet, newest first."""
        if update.is_delete:
            return ()
        return tuple(self.repo.commits([update.new], self._known(update),
                                       exclude_refs=self._known_refs(push)))

    @memoized
    def branch_additions(self, update: RefUpdate, push: Push) -> tuple[Commit, ...]:
        """The commits `update` adds to its branch's first-parent chain, newest first."""
        if update.is_delete:
            return ()
        if update.is_create:
            return tuple(self.repo.commits([update.new], first_parent=True,
                                           exclude_refs=self._known_refs(push)))
        return tuple(self.repo.commits([update.new], self._known(update), first_parent=True))

    @memoized
    def first_parent_line(self, tip: str, exclude: tuple[str, ...]) -> frozenset[str]:
        """`tip`'s first-parent commits that none of `exclude` has."""
        return frozenset(c.sha for c in self.repo.commits([tip], exclude, first_parent=True))

    @memoized
    def tips_after(self, push: Push) -> dict[str, str]:
        """Branch tips as the receiving side will have them once `push` lands."""
        if push.remote and push.remote in self.repo.remotes:
            tips = self.repo.remote_branches(push.remote)
        else:
            tips = self.repo.local_branches()
        for update in push.updates:
            if update.branch is None:
                continue
            if update.new == ZERO_SHA:
                tips.pop(update.branch, None)
            else:
                tips[update.branch] = update.new
        return tips

    @memoized
    def tips_before(self, push: Push) -> dict[str, str]:
        """Branch tips the receiving side holds before `push`; a branch the push creates is
        left out (a CI clone's origin/<branch> already is the pushed tip)."""
        if push.remote and push.remote in self.repo.remotes:
            tips = self.repo.remote_branches(push.remote)
        else:
            tips = self.repo.local_branches()
        for update in push.updates:
            if update.branch is not None and update.is_create:
                tips.pop(update.branch, None)
        return tips

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
