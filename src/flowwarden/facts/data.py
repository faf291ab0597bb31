"""Facts about data: what a commit stages or a push brings, and the DVC outputs they name.

Every hook imports this module, and most commits involve no DVC file: the DVC adapter (and
YAML with it) is imported by the methods that read DVC's files, on first use.
"""
from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from flowwarden.adapters.dvc.paths import is_dvc_file, is_lock, sibling
from flowwarden.adapters.git import Commit, GitRepo
from flowwarden.adapters.git.plumbing import (
    commit_changes,
    ignored_paths,
    index_paths,
    object_ids,
    read_blobs,
)
from flowwarden.core.records import CommitAttempt, Push, RefUpdate, StagedFile
from flowwarden.core.stages import Stage
from flowwarden.facts.history import HistoryFacts
from flowwarden.facts.memo import memoized
from flowwarden.policy.model import Policy

if TYPE_CHECKING:
    from flowwarden.adapters.dvc.config import DvcConfig
    from flowwarden.adapters.dvc.files import Lock, Output
    from flowwarden.adapters.dvc.objects import ObjectStore

LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1"
LFS_POINTER_SIZES = range(120, 1024)  # a pointer's three lines; the LFS spec caps it at 1024


class Outputs(NamedTuple):
    """The outputs some DVC files name, and the files that could not be read."""

    outputs: tuple[Output, ...]
    broken: tuple[tuple[str, str], ...]  # (path, its first problem): dvc-file-format reports them


class DataFacts:
    """What the data rules ask about one run's commits and pushes, each asked of git once."""

    def __init__(self, repo: GitRepo, policy: Policy, stage: Stage,
                 history: HistoryFacts, env: Mapping[str, str] | None = None) -> None:
        self.repo = repo
        self.policy = policy
        self.stage = stage
        self.history = history
        self.env = env if env else os.environ

    # --- the repository's DVC set-up ----------------------------------------------------

    @cached_property
    def dvc_ready(self) -> bool:
        """`dvc init` has run here (a bare repository is given the benefit of the doubt)."""
        return self.repo.root is None or (self.repo.root / ".dvc").is_dir()

    @cached_property
    def config(self) -> DvcConfig:
        """The configuration of the DVC project at the repository root."""
        return self.project_config("")

    @cached_property
    def cache(self) -> ObjectStore:
        return self.project_cache("")

    # --- DVC projects anywhere in the repository (`dvc init --subdir`) -----------------

    def project_of(self, path: str) -> str:
        """The DVC project a repo-relative file belongs to: the nearest directory above it
        with a `.dvc/` directory, repo-relative ("" for the root)."""
        root = self.repo.root
        parent = posixpath.dirname(path)
        while root is not None and parent:
            if (root / parent / ".dvc").is_dir():
                return parent
            parent = posixpath.dirname(parent)
        return ""

    def projects_at(self, paths: Iterable[str], rev: str) -> dict[str, str]:
        """Each repo-relative path -> its DVC project as `rev` lays them out (the nearest
        directory above it holding a committed `.dvc/`; "" for the root): for a bare
        repository, which has no work tree to look in. One git call for all of them."""
        def parents(path: str) -> list[str]:
            found, parent = [], posixpath.dirname(path)
            while parent:
                found.append(parent)
                parent = posixpath.dirname(parent)
            return found

        wanted = {p: parents(p) for p in paths}
        ids = object_ids(self.repo, [f"{rev}:{d}/.dvc" for ds in wanted.values() for d in ds])
        return {p: next((d for d in ds if ids.get(f"{rev}:{d}/.dvc")), "")
                for p, ds in wanted.items()}

    @memoized
    def project_config(self, project: str, trusted: str | None = None) -> DvcConfig:
        """`trusted`: a revision whose committed `.dvc/config` replaces the work tree's (CI:
        what the target holds, so a pull request cannot point the remote, and the runner's
        credentials, at a host of its choosing)."""
        from flowwarden.adapters.dvc.config import read_config

        base = self.repo.root or self.repo.git_dir
        committed = None
        if trusted is not None:
            spec = f"{trusted}:{posixpath.join(project, '.dvc/config')}"
            blob = self.blobs([spec]).get(spec)
            committed = blob.decode("utf-8", "replace") if blob is not None else ""
        return read_config(base / project / ".dvc", self.env, committed)

    @memoized
    def project_cache(self, project: str) -> ObjectStore:
        from flowwarden.adapters.dvc.objects import ObjectStore

        return ObjectStore(self.project_config(project).cache_dir)

    # --- blobs and paths --------------------------------------------------------------

    def blobs(self, specs: Sequence[str]) -> Mapping[str, bytes | None]:
        """Blobs by `sha`, `rev:path` or `:path` (staged), all in one git call."""
        return read_blobs(self.repo, specs)

    def lfs_pointers(self, shas: Iterable[str]) -> frozenset[str]:
        """Those of the blob `shas` that are Git LFS pointers."""
        blobs = read_blobs(self.repo, list(shas))
        return frozenset(s for s, blob in blobs.items()
                         if blob and blob.startswith(LFS_POINTER_PREFIX))

    def ignored(self, paths: Iterable[str]) -> set[str]:
        """Which of `paths` git ignores in the working tree."""
        return ignored_paths(self.repo, paths)

    # --- a commit ---------------------------------------------------------------------

    @memoized
    def staged_outputs(self, event: CommitAttempt) -> Outputs:
        """Outputs named by the staged `.dvc` files and `dvc.lock`s (staged content, not disk)."""
        files = [(f.path, f.blob) for f in event.staged
                 if f.status != "D" and is_dvc_file(f.path)]
        return self._outputs(files) if files else Outputs((), ())

    @memoized
    def index_listing(self, event: CommitAttempt) -> tuple[str, ...]:
        """Staged `dvc.lock`s and index paths under staged outputs, from one `ls-files`."""
        outputs = self.staged_outputs(event).outputs
        specs = ["dvc.lock", ":(glob)**/dvc.lock", *(":(literal)" + o.path for o in outputs)]
        return tuple(index_paths(self.repo, specs))

    @memoized
    def staged_locks(self, event: CommitAttempt) -> tuple[Lock, ...]:
        """Every `dvc.lock` in the index, read with its staged `dvc.yaml`; an unreadable one is
        left out (dvc-missing-cache reports it when it is staged)."""
        paths = [p for p in self.index_listing(event) if is_lock(p)]
        if not paths:
            return ()
        from flowwarden.adapters.dvc.files import UnreadableFile, parse_lock

        yamls = {p: ":" + sibling(p, "dvc.yaml") for p in paths}
        blobs = read_blobs(self.repo, [":" + p for p in paths] + list(yamls.values()))
        locks = []
        for path in paths:
            text = blobs.get(":" + path)
            if text:
                try:
                    locks.append(parse_lock(text, path, blobs.get(yamls[path])))
                except UnreadableFile:
                    continue
        return tuple(locks)

    # --- a push -----------------------------------------------------------------------

    @memoized
    def push_changes(self, push: Push) -> tuple[tuple[Commit, StagedFile], ...]:
        """What the pushed commits change, each change with the commit that made it."""
        # A ref update can carry anything the environment said (pre-commit's TO_REF);
        # only commits this repository has can be walked.
        commits = {c.sha: c for u in self._walkable(push)
                   for c in self.history.new_commits(u, push)}
        return tuple(commit_changes(self.repo, commits.values()))

    def changed_at_tips(self, push: Push, wanted: Callable[[str], bool]
                        ) -> list[tuple[str, str]]:
        """(path, `tip:path`) for each path a ref update's own new commits change and
        `wanted` accepts, read at that update's tip: a ref is judged for what it brings, not
        for what another ref of the same push changes."""
        by_commit: dict[str, set[str]] = {}
        for commit, f in self.push_changes(push):
            if wanted(f.path):
                by_commit.setdefault(commit.sha, set()).add(f.path)
        if not by_commit:
            return []
        files: dict[tuple[str, str], None] = {}
        for update in self._walkable(push):
            paths = {p for c in self.history.new_commits(update, push)
                     for p in by_commit.get(c.sha, ())}
            files.update(((p, f"{update.new}:{p}"), None) for p in sorted(paths))
        return list(files)

    @memoized
    def pushed_files(self, push: Push) -> Outputs:
        """Outputs named at the pushed tips by the DVC files the pushed commits changed, and
        those of the files that cannot be read."""
        files = self.changed_at_tips(push, is_dvc_file)
        if not files:
            return Outputs((), ())
        found = self._outputs(files)
        return Outputs(tuple({(o.md5, o.path): o for o in found.outputs}.values()),
                       tuple(dict.fromkeys(found.broken)))

    def pushed_outputs(self, push: Push) -> tuple[Output, ...]:
        return self.pushed_files(push).outputs

    def pushed_tips(self, push: Push) -> tuple[str, ...]:
        """The new tips of the updates this repository can walk, each once."""
        return tuple(dict.fromkeys(u.new for u in self._walkable(push)))

    @memoized
    def _walkable(self, push: Push) -> tuple[RefUpdate, ...]:
        return tuple(u for u in push.updates if not u.is_delete and self.repo.has_object(u.new))

    def _outputs(self, files: Sequence[tuple[str, str]]) -> Outputs:
        """Outputs named by DVC files given as (path, blob spec); a lock's `dvc.yaml` is read
        from the same revision as the lock (`rev:dir/dvc.yaml`)."""
        from flowwarden.adapters.dvc.format import check

        def yaml_spec(path: str, spec: str) -> str:
            rev = spec[:-len(path)] if spec.endswith(path) else ":"
            return rev + sibling(path, "dvc.yaml")

        locks = [(p, s) for p, s in files if is_lock(p)]
        blobs = read_blobs(self.repo, [s for _, s in files] + [yaml_spec(p, s) for p, s in locks])
        outputs: list[Output] = []
        broken: list[tuple[str, str]] = []
        for path, spec in files:
            text = blobs.get(spec)
            if text is None:
                continue
            pipeline = blobs.get(yaml_spec(path, spec)) if is_lock(path) else None
            # a file not in DVC's format is dvc-file-format's to report; the others skip it
            checked = check(path, text, pipeline)
            outputs.extend(checked.outputs)
            broken.extend((path, p.message) for p in checked.problems[:1])
        return Outputs(tuple(outputs), tuple(broken))
