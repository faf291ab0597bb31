"""A commit graph read with one `git log`, asked ancestry questions in memory.

An audit loads the history of the branches it judges once; then "is a an ancestor of b",
"which commits does b have that a lacks" cost no git process. A graph read with a lower
bound (`--since`) is not closed: a question it cannot answer for certain returns None, and
the caller asks git.
"""
from __future__ import annotations

import heapq
from collections.abc import Container, Iterable, Sequence
from typing import NamedTuple

from flowwarden.core import proc


class Commit(NamedTuple):
    sha: str
    parents: tuple[str, ...]
    message: str

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


def parse_commit(record: str) -> Commit:
    header, _, message = record.partition("\n")
    sha, *parents = header.split(" ")
    return Commit(sha, tuple(p for p in parents if p), message)


class CommitGraph:
    """Loaded commits (children before parents) with their generation numbers."""

    def __init__(self, commits: Sequence[Commit]) -> None:
        self.by_sha = {c.sha: c for c in commits}
        self.order = {c.sha: i for i, c in enumerate(commits)}
        self.closed = all(p in self.by_sha for c in commits for p in c.parents)
        self.generation = _generations(self.by_sha)
        # Answers kept: a push of many refs asks the same pairs (a base and develop's tip)
        # once per ref.
        self._ancestry: dict[tuple[str, str], bool | None] = {}
        self._bases: dict[tuple[str, str], tuple[str, ...] | None] = {}

    @classmethod
    def load(cls, cwd: str, env: dict[str, str] | None, tips: Iterable[str],
             exclude: Iterable[str] = ()) -> CommitGraph:
        """Every commit reachable from `tips` and from none of `exclude`: one `git log`."""
        stdin = "".join([*(f"{t}\n" for t in tips), *(f"^{x}\n" for x in exclude)])
        if not stdin:
            return cls([])
        _, out = proc.run(["git", "log", "-z", "--topo-order", "--format=%H %P%n%B",
                           "--stdin"], cwd=cwd, env=env, stdin=stdin.encode())
        return cls([parse_commit(r) for r in out.decode(errors="replace").split("\0") if r])

    def __contains__(self, sha: object) -> bool:
        return sha in self.by_sha

    def __len__(self) -> int:
        return len(self.by_sha)

    def first_parent_line(self, tip: str) -> list[Commit]:
        """`tip` and its first parents while they are loaded, newest first."""
        line = []
        commit = self.by_sha.get(tip)
        while commit is not None:
            line.append(commit)
            commit = self.by_sha.get(commit.parents[0]) if commit.parents else None
        return line

    def reachable(self, tips: Iterable[str], stop: Container[str] = frozenset()) -> set[str]:
        """The loaded commits `tips` reach, `stop` and what lies below it left out: a walk
        over the loaded commits alone, no git."""
        found: set[str] = set()
        stack = [t for t in tips if t in self.by_sha and t not in stop]
        found.update(stack)
        while stack:
            for parent in self.by_sha[stack.pop()].parents:
                if parent not in found and parent in self.by_sha and parent not in stop:
                    found.add(parent)
                    stack.append(parent)
        return found

    def line(self, tip: str, stop: Container[str], first_parent: bool) -> list[Commit]:
        """`tip` and its ancestors (first parents only, with `first_parent`) down to `stop`
        or to what is not loaded, in loaded order: newest first."""
        found = self.reachable([tip], stop) if not first_parent else set()
        if first_parent:
            commit = self.by_sha.get(tip)
            while commit is not None and commit.sha not in stop and commit.sha not in found:
                found.add(commit.sha)
                commit = self.by_sha.get(commit.parents[0]) if commit.parents else None
        return [self.by_sha[s] for s in sorted(found, key=self.order.__getitem__)]

    def is_ancestor(self, ancestor: str, descendant: str) -> bool | None:
        """None when the loaded commits cannot tell."""
        key = (ancestor, descendant)
        if key not in self._ancestry:
            self._ancestry[key] = self._is_ancestor(ancestor, descendant)
        return self._ancestry[key]

    def _is_ancestor(self, ancestor: str, descendant: str) -> bool | None:
        if ancestor == descendant:
            return True
        tip = self.by_sha.get(descendant)
        if tip is not None and ancestor in tip.parents:
            return True
        if not self.closed or tip is None:
            return None
        floor = self.generation.get(ancestor)
        if floor is None:  # not loaded, so no loaded commit reaches it
            return False
        stack, seen = [descendant], {descendant}
        while stack:
            for parent in self.by_sha[stack.pop()].parents:
                if parent == ancestor:
                    return True
                if parent not in seen and self.generation[parent] > floor:
                    seen.add(parent)
                    stack.append(parent)
        return False

    def difference(self, include: Iterable[str], exclude: Iterable[str],
                   first_parent: bool = False) -> list[Commit] | None:
        """Commits reachable from `include` and not from `exclude`, in loaded order (newest
        first); None when the loaded commits cannot tell. Walks by generation, as git does,
        so the cost follows the answer, not the graph. Commits below a lower bound are
        ancestors of it only, so they matter only when the answer would reach them."""
        heads, stops = list(include), list(exclude)
        if any(s not in self.by_sha for s in heads + stops):
            return None
        mark: dict[str, bool] = {}  # sha -> reachable from exclude (final once popped)
        queue: list[tuple[int, str]] = []
        live = 0  # queued commits not (yet) known to be excluded: the walk ends at zero

        def push(sha: str, excluded: bool) -> None:
            nonlocal live
            before = mark.get(sha)
            if before is None or (excluded and before is False):
                mark[sha] = excluded
                heapq.heappush(queue, (-self.generation[sha], sha))
                live += (before is None and not excluded) - (before is False)

        for sha in stops:
            push(sha, True)
        for sha in heads:
            push(sha, False)
        done: set[str] = set()
        while queue and live:
            _, sha = heapq.heappop(queue)
            if sha in done:
                continue
            done.add(sha)
            excluded = mark[sha]
            live -= not excluded
            parents = self.by_sha[sha].parents
            for parent in parents[:1] if first_parent and not excluded else parents:
                if parent in self.by_sha:
                    push(parent, excluded)
                elif not excluded:
                    return None  # the answer goes below what was loaded
        found = sorted((s for s in done if not mark[s]), key=self.order.__getitem__)
        return [self.by_sha[s] for s in found]

    def merge_bases(self, a: str, b: str) -> tuple[str, ...] | None:
        """The best common ancestors of `a` and `b`, as `git merge-base --all` finds them;
        None when the loaded commits cannot tell."""
        if not self.closed or a not in self.by_sha or b not in self.by_sha:
            return None
        # A commit of one parent above the other side is no ancestor of it: the bases are its
        # parent's. Pushed branches one commit off develop share one question.
        a, b = self._lone_parent(a, b), self._lone_parent(b, a)
        if (a, b) not in self._bases:
            self._bases[a, b] = self._merge_bases(a, b)
        return self._bases[a, b]

    def _lone_parent(self, sha: str, other: str) -> str:
        floor = self.generation[other]
        while self.generation[sha] > floor and len(self.by_sha[sha].parents) == 1:
            sha = self.by_sha[sha].parents[0]
        return sha

    def _merge_bases(self, a: str, b: str) -> tuple[str, ...] | None:
        if a == b:
            return (a,)
        left, right, stale = 1, 2, 4
        flags: dict[str, int] = {}
        queue: list[tuple[int, str]] = []
        live = 0  # queued commits not yet stale: the walk ends at zero

        def paint(sha: str, mark: int) -> None:
            nonlocal live
            before = flags.get(sha, 0)
            if before & mark != mark:
                flags[sha] = before | mark
                # a parent is painted before it is popped: never after (generations fall)
                if not before and not mark & stale:
                    live += 1
                elif before and not before & stale and mark & stale:
                    live -= 1
                heapq.heappush(queue, (-self.generation[sha], sha))

        done: set[str] = set()
        paint(a, left)
        paint(b, right)
        found: list[str] = []
        while queue and live:
            _, sha = heapq.heappop(queue)
            if sha in done:
                continue
            done.add(sha)
            mark = flags[sha]
            live -= not mark & stale
            if mark & (left | right) == left | right and not mark & stale:
                found.append(sha)
                mark |= stale
            for parent in self.by_sha[sha].parents:
                paint(parent, mark)
        return tuple(s for s in found
                     if not any(o != s and self.is_ancestor(s, o) for o in found))

    def share_history(self, a: str, b: str) -> bool | None:
        """Whether `a` and `b` have a common ancestor; None when the loaded commits cannot
        tell. A closed graph asks its merge bases; another (a push's new commits) paints
        down from both by generation until a commit, loaded or just below, has both."""
        if self.closed:
            bases = self.merge_bases(a, b)
            return None if bases is None else bool(bases)
        flags = {a: 1, b: 2}
        queue = [(-self.generation.get(a, 0), a), (-self.generation.get(b, 0), b)]
        while queue:
            _, sha = heapq.heappop(queue)
            commit = self.by_sha.get(sha)
            for parent in commit.parents if commit else ():
                before = flags.get(parent, 0)
                mark = before | flags[sha]
                if mark == 3:
                    return True
                if mark != before:
                    flags[parent] = mark
                    heapq.heappush(queue, (-self.generation.get(parent, 0), parent))
        return None


def _generations(by_sha: dict[str, Commit]) -> dict[str, int]:
    """1 + the longest path down to a root or to a commit not loaded, for every commit."""
    generation: dict[str, int] = {}
    for start in by_sha:
        stack = [start]
        while stack:
            sha = stack[-1]
            if sha in generation:
                stack.pop()
                continue
            todo = [p for p in by_sha[sha].parents if p in by_sha and p not in generation]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            generation[sha] = 1 + max((generation.get(p, 0) for p in by_sha[sha].parents),
                                      default=0)
    return generation
