"""Batched git plumbing: many blobs, index paths, commits' changes or ignore checks, one
process each."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from flowwarden.adapters.git.repo import Commit, GitRepo
from flowwarden.core import proc
from flowwarden.core.records import StagedFile

SYMLINK, GITLINK = "120000", "160000"


def _z(paths: Iterable[str]) -> bytes:
    return b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths)


def _paths(out: bytes) -> list[str]:
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def read_blobs(repo: GitRepo, specs: Sequence[str]) -> dict[str, bytes | None]:
    """Several blobs (`sha`, `rev:path`, `:path`); None for a spec that names no blob. Those
    by sha or `<commit sha>:path` are asked of one `git cat-file --batch` kept running for the
    repository's whole run, the others of one more call."""
    return repo.blob_reader.read(repo.git, specs, lambda: proc.Pipe(
        ["git", "cat-file", "--batch"], cwd=repo.cwd, env=repo.env))


def index_paths(repo: GitRepo, pathspecs: Sequence[str]) -> list[str]:
    """Paths in the index (GIT_INDEX_FILE honoured) that match `pathspecs`: one git call."""
    return sorted(set(_paths(repo.git("ls-files", "-z", "--cached", "--", *pathspecs))))


def commit_changes(repo: GitRepo, commits: Iterable[Commit]) -> list[tuple[Commit, StagedFile]]:
    """Every commit's changes, sized (a merge's own: what matches none of its parents), each
    with the commit that made it: read in bulk by GitRepo.changes."""
    wanted = list({c.sha: c for c in commits}.values())
    changes = repo.changes(c.sha for c in wanted)
    return [(c, f) for c in wanted for f in changes.get(c.sha, ())]


def ignored_paths(repo: GitRepo, paths: Iterable[str]) -> set[str]:
    """Which of `paths` the working tree's gitignore rules exclude: one git call for all."""
    wanted = sorted(set(paths))
    if not wanted:
        return set()
    out = repo.git("check-ignore", "--no-index", "--stdin", "-z", stdin=_z(wanted), check=False)
    return set(_paths(out))


def object_ids(repo: GitRepo, specs: Sequence[str]) -> dict[str, str | None]:
    """Each spec (`rev:path`, `sha`) -> the object it names, None when it names none: one
    `git cat-file --batch-check` for all of them."""
    wanted = list(dict.fromkeys(specs))
    if not wanted:
        return {}
    out = repo.git("cat-file", "--batch-check=%(objectname)", check=False,
                   stdin="".join(s + "\n" for s in wanted).encode("utf-8", "surrogateescape"))
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    return {spec: None if line.endswith(" missing") or line.endswith(" ambiguous") else line
            for spec, line in zip(wanted, lines, strict=False)}


def rewrites(repo: GitRepo, old: str, new: str) -> bool:
    """Whether `new` rewrote commits of `old` (amend, rebase, filter): a commit only `new` has
    keeps the author identity and date of one only `old` has. One `git log` of old...new."""
    out = repo.git("log", "-z", "--left-right", "--format=%m%an <%ae> %ad", "--date=raw",
                   f"{old}...{new}", "--")
    sides: dict[str, set[str]] = {"<": set(), ">": set()}
    for record in out.decode("utf-8", "surrogateescape").split("\0"):
        if record[:1] in sides:
            sides[record[:1]].add(record[1:])
    return bool(sides["<"] & sides[">"])
