"""The git adapter: small functions over the git command line, `-z` output throughout."""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from flowwarden.adapters.early import DISCOVER, staged_diff
from flowwarden.adapters.git.diffs import parse_diff_trees
from flowwarden.adapters.git.diffs import parse_raw_diff as parse_raw_diff
from flowwarden.adapters.git.graph import Commit as Commit
from flowwarden.adapters.git.graph import CommitGraph, parse_commit
from flowwarden.adapters.git.objects import (
    READ_AHEAD_SIZE,
    BlobReader,
    blob_sizes,
    is_partial_clone,
)
from flowwarden.adapters.git.objects import UNKNOWN_SIZE as UNKNOWN_SIZE
from flowwarden.adapters.git.refs import Refs
from flowwarden.core import proc
from flowwarden.core.errors import NotARepository
from flowwarden.core.records import ZERO_SHA, StagedFile

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class GitRepo(Refs):
    """A repository as git sees it from `cwd`: work tree (None when bare) and git dirs."""

    def __init__(self, root: Path | None, git_dir: Path, common_dir: Path,
                 env: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.git_dir = git_dir
        self.common_dir = common_dir
        self.env = env
        self._head: str | None | bool = False  # False: not read yet
        #: Loaded by an audit: ancestry questions about its commits are answered in memory.
        self.graph: CommitGraph | None = None
        self._graph_key: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        self._pushed = CommitGraph([])  # a push's new commits: for `related` alone
        self._changes: dict[str, tuple[StagedFile, ...]] = {}
        self._expected: dict[str, None] = {}  # commits whose changes will be asked for
        self._has: set[str] = set()
        self._peeled: dict[str, str] = {}  # sha -> the commit it peels to, learnt in bulk
        self.blob_reader = BlobReader()
        self.pinned = False  # no ref can move (a pre-receive hook): reads by revision are kept
        self._modes: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}
        self._blobs: dict[str, bytes | None] = {}

    @classmethod
    def discover(cls, cwd: str | os.PathLike[str] = ".",
                 env: Mapping[str, str] | None = None) -> GitRepo:
        # One process answers all of it; HEAD's line is missing on an unborn branch.
        _, out = proc.run(
            DISCOVER,
            cwd=cwd, env=env, check=False,
        )
        lines = out.decode().splitlines()
        if len(lines) < 3 or lines[0] not in ("true", "false"):
            raise NotARepository(f"{os.path.abspath(cwd)} is not inside a git repository")
        bare = lines[0] == "true"
        git_dir = Path(lines[1])
        common = Path(lines[2])
        if not common.is_absolute():
            common = (Path(cwd) / common).resolve()
        rest = lines[3:]
        root = None if bare or not rest or looks_like_sha(rest[0]) else Path(rest.pop(0))
        repo = cls(root=root, git_dir=git_dir, common_dir=common, env=env)
        if not bare:  # in a bare repository --show-toplevel fails and git prints no more
            repo._head = rest[0] if rest and looks_like_sha(rest[0]) else None
        return repo

    @property
    def cwd(self) -> Path:
        return self.root if self.root is not None else self.git_dir

    def git(self, *args: str, stdin: bytes | None = None, check: bool = True) -> bytes:
        return proc.run(["git", *args], cwd=self.cwd, stdin=stdin, env=self.env,
                        check=check)[1]

    def git_ok(self, *args: str) -> bool:
        return proc.run(["git", *args], cwd=self.cwd, env=self.env, check=False)[0] == 0

    # --- where we are -------------------------------------------------------------

    def current_branch(self) -> str | None:
        """The checked-out branch's short name, None when HEAD is detached."""
        head = (self.git_dir / "HEAD").read_text().strip()
        prefix = "ref: refs/heads/"
        return head[len(prefix):] if head.startswith(prefix) else None

    def remember_peeled(self, peeled: Mapping[str, tuple[str, str]]) -> None:
        """`objects.peel`'s answer for many shas: has_object and rev_parse reuse it."""
        self._peeled.update((s, t) for s, (t, kind) in peeled.items() if kind == "commit")
        self._has.update(self._peeled)

    def rev_parse(self, rev: str) -> str | None:
        if rev in self._peeled:
            return self._peeled[rev]
        code, out = proc.run(["git", "rev-parse", "-q", "--verify", "--end-of-options",
                              rev + "^{commit}"],
                             cwd=self.cwd, env=self.env, check=False)
        return out.decode().strip() if code == 0 else None

    def head(self) -> str | None:
        if self._head is False:
            self._head = self.rev_parse("HEAD")
        return self._head if isinstance(self._head, str) else None

    def merge_head(self) -> str | None:
        """The commit being merged while a conflicted merge is concluded."""
        path = self.git_dir / "MERGE_HEAD"
        try:
            return path.read_text().split()[0]
        except (OSError, IndexError):
            return None

    def merge_msg(self) -> str | None:
        try:
            return (self.git_dir / "MERGE_MSG").read_text(errors="replace")
        except OSError:
            return None

    # --- the staged change ----------------------------------------------------------

    def staged_changes(self, head: str | None) -> tuple[StagedFile, ...]:
        """Added, modified and deleted paths of the index (GIT_INDEX_FILE honoured) vs HEAD."""
        raw = self.git(*staged_diff(head or EMPTY_TREE)[1:])
        return self.with_sizes(parse_raw_diff(raw))

    def with_sizes(self, changes: Sequence[StagedFile]) -> tuple[StagedFile, ...]:
        """Fill in blob sizes with one size query for all of them; a blob a partial clone
        lacks gets UNKNOWN_SIZE and is not fetched."""
        sizes = blob_sizes(self.git, [c.blob for c in changes
                                      if c.blob != ZERO_SHA and c.mode != "160000"],
                           is_partial_clone(self.common_dir))
        return tuple(c if c.blob not in sizes else c._replace(size=sizes[c.blob])
                     for c in changes)

    def expect_changes(self, shas: Iterable[str]) -> None:
        """Say whose changes will be asked for, so the first question reads them all."""
        self._expected.update(dict.fromkeys(shas))

    def changes(self, shas: Iterable[str]) -> Mapping[str, tuple[StagedFile, ...]]:
        """Each commit's changes, sized; a merge's own (what matches none of its parents: an
        evil or forged merge's files). One `diff-tree -c` and one size query for all those
        not asked before (and all those expected, when one of them is asked)."""
        wanted = [s for s in dict.fromkeys(shas) if s not in self._changes]
        if wanted and any(s in self._expected for s in wanted):
            wanted = list(dict.fromkeys([*wanted, *(s for s in self._expected
                                                     if s not in self._changes)]))
            self._expected = {}
        if wanted:
            raw = self.git("diff-tree", "--stdin", "-r", "-z", "-c", "--no-renames", "--root",
                           stdin="".join(s + "\n" for s in wanted).encode())
            found = parse_diff_trees(raw)
            sized = self.with_sizes([f for s in wanted for f in found.get(s, ())])
            self.blob_reader.expect(f.blob for f in sized if 0 < f.size <= READ_AHEAD_SIZE)
            files = iter(sized)
            for sha in wanted:
                self._changes[sha] = tuple(next(files) for _ in found.get(sha, ()))
        return self._changes

    def read_blob(self, rev_path: str) -> bytes | None:
        """`rev:path` (or a blob sha) as bytes, None when it does not exist."""
        if rev_path in self._blobs:
            return self._blobs[rev_path]
        code, out = proc.run(["git", "cat-file", "blob", rev_path], cwd=self.cwd,
                             env=self.env, check=False)
        if self.pinned:
            self._blobs[rev_path] = out if code == 0 else None
        return out if code == 0 else None

    def peeled_types(self, shas: Iterable[str]) -> dict[str, str]:
        """sha -> the type of the object it names once annotated tags are peeled (commit,
        tree, blob), in one git process; unknown objects are left out."""
        asked = list(dict.fromkeys(shas))
        known = {sha: "commit" for sha in asked if self.graph is not None and sha in self.graph}
        wanted = [sha for sha in asked if sha not in known]
        if not wanted:
            return known  # an audit's commits: already read as commits
        stdin = "".join(f"{sha}^{{}}\n" for sha in wanted).encode()
        out = self.git("cat-file", "--batch-check=%(objecttype)", stdin=stdin, check=False)
        kinds = out.decode(errors="replace").splitlines()
        return {**known, **{sha: kind for sha, kind in zip(wanted, kinds, strict=False)
                            if not kind.endswith("missing")}}

    def tree_modes(self, rev: str, paths: Sequence[str]) -> dict[str, str]:
        """path -> git file mode (100644, 100755, 120000 for a symlink) of the `paths` that
        exist at the top of `rev`'s tree; {} when `rev` does not exist."""
        key = (rev, tuple(paths))
        if key in self._modes:
            return dict(self._modes[key])
        code, out = proc.run(["git", "ls-tree", "-z", rev, "--", *paths], cwd=self.cwd,
                             env=self.env, check=False)
        entries = (e.decode("utf-8", "surrogateescape") for e in out.split(b"\0") if e)
        modes = {path: meta.split()[0] for meta, _, path in (e.partition("\t") for e in entries)
                 } if code == 0 else {}
        if self.pinned:
            self._modes[key] = dict(modes)
        return modes

    # --- history --------------------------------------------------------------------

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        known = self.graph.is_ancestor(ancestor, descendant) if self.graph else None
        if known is not None:
            return known
        return self.git_ok("merge-base", "--is-ancestor", ancestor, descendant)

    def merge_bases(self, a: str, b: str) -> tuple[str, ...]:
        known = self.graph.merge_bases(a, b) if self.graph else None
        if known is not None:
            return known
        code, out = proc.run(["git", "merge-base", "--all", a, b], cwd=self.cwd,
                             env=self.env, check=False)
        return tuple(out.decode().split()) if code == 0 else ()

    def load_graph(self, tips: Iterable[str], exclude: Iterable[str] = ()) -> CommitGraph:
        """Read the commits `tips` reach and `exclude` do not, once: ancestry in memory."""
        key = (tuple(t for t in tips if t != ZERO_SHA), tuple(x for x in exclude if x != ZERO_SHA))
        if self.graph is None or self._graph_key != key:
            self.graph = CommitGraph.load(str(self.cwd), dict(self.env) if self.env else None,
                                          *key)
            self._graph_key = key
        return self.graph

    def remember(self, commits: Sequence[Commit]) -> None:
        """Keep a push's new commits to tell `related` pairs among them."""
        self._pushed = CommitGraph([*self._pushed.by_sha.values(), *commits])

    def related(self, a: str, b: str) -> bool:
        """`a` and `b` share history, from the loaded commits when they can tell."""
        known = (self.graph or self._pushed).share_history(a, b)
        return known if known is not None else bool(self.merge_bases(a, b))

    def missing_objects(self, shas: Iterable[str]) -> list[str]:
        """Those of `shas` that name no object here (a pushed tag is an object): one query."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return []
        out = self.git("cat-file", "--batch-check=%(objectname)",
                       stdin="".join(f"{s}\n" for s in wanted).encode())
        found = {line for line in out.decode().splitlines() if not line.endswith(" missing")}
        return [s for s in wanted if s not in found]

    def has_object(self, sha: str) -> bool:
        """Whether `sha` names a commit here; a yes is kept for the run, a no is not (a fetch
        may bring it)."""
        if sha == ZERO_SHA:
            return False
        if sha not in self._has and not (self.graph is not None and sha in self.graph) \
                and self.git_ok("cat-file", "-e", sha + "^{commit}"):
            self._has.add(sha)
        return sha in self._has or (self.graph is not None and sha in self.graph)

    def commits(self, include: Iterable[str], exclude: Iterable[str] = (),
                first_parent: bool = False, exclude_refs: Sequence[str] = ()) -> list[Commit]:
        """Commits reachable from `include` but not from `exclude` or the `exclude_refs`
        patterns (`--remotes=origin`, `--branches`), newest first."""
        tips = [r for r in include if r != ZERO_SHA]
        if not tips:
            return []
        stops = [r for r in exclude if r != ZERO_SHA]
        if self.graph is not None and not exclude_refs:
            known = self.graph.difference(tips, stops, first_parent)
            if known is not None:
                return known
        args = ["log", "-z", "--format=%H %P%n%B"]
        if first_parent:
            args.append("--first-parent")
        if exclude_refs:
            args += ["--not", *exclude_refs, "--not"]
        stdin = "\n".join([*tips, *("^" + r for r in stops)]) + "\n"
        out = self.git(*args, "--stdin", stdin=stdin.encode())
        return [parse_commit(record) for record in out.decode(errors="replace").split("\0")
                if record]

    def commit(self, rev: str) -> Commit | None:
        """One commit's parents and message, None when `rev` names no commit."""
        if self.graph is not None and rev in self.graph:
            return self.graph.by_sha[rev]
        code, out = proc.run(["git", "log", "-1", "-z", "--format=%H %P%n%B", "--end-of-options",
                              rev], cwd=self.cwd, env=self.env, check=False)
        record = out.decode(errors="replace").strip("\0")
        return parse_commit(record) if code == 0 and record else None

    def count(self, include: Iterable[str], exclude: Iterable[str] = ()) -> int:
        if self.graph is not None:
            known = self.graph.difference(list(include), list(exclude))
            if known is not None:
                return len(known)
        stdin = "\n".join([*include, *("^" + r for r in exclude)]) + "\n"
        return int(self.git("rev-list", "--count", "--stdin", stdin=stdin.encode()).strip())


def looks_like_sha(text: str) -> bool:
    """A full object name, SHA-1 or SHA-256, as git prints it."""
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)
