"""Blob sizes in bulk, without fetching what a partial clone lacks."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

#: The size of a blob a partial clone lacks: asking would fetch it, so nobody asks.
UNKNOWN_SIZE = -1
#: Blobs this small that an audit's changes hold are read together when one is asked for
#: (rules read small blobs to tell Git LFS pointers): one process, not one per step.
READ_AHEAD_SIZE = 1024

Git = Callable[..., bytes]  # GitRepo.git: runs git with these arguments, returns stdout


def is_partial_clone(common_dir: Path) -> bool:
    """A clone made with `--filter`: its packs from the promisor remote say so."""
    return any((common_dir / "objects" / "pack").glob("*.promisor"))


def present_objects(git: Git, shas: Sequence[str]) -> list[str]:
    """Those of `shas` this repository holds, asked without a lazy fetch: git 2.39 has no
    GIT_NO_LAZY_FETCH (2.44) and `cat-file` fetches each missing object, but `rev-list
    --missing` turns fetching off and `--ignore-missing` skips what is absent."""
    out = git("rev-list", "--objects", "--no-walk", "--ignore-missing", "--missing=print",
              "--stdin", stdin="".join(f"{s}\n" for s in shas).encode())
    found = {line.split(" ", 1)[0] for line in out.decode().splitlines()}
    return [s for s in shas if s in found]


def blob_sizes(git: Git, shas: Sequence[str], partial: bool) -> dict[str, int]:
    """Each blob's size, from one `cat-file --batch-check` (and, in a partial clone, one
    `rev-list` first); UNKNOWN_SIZE for a blob the clone lacks."""
    wanted = list(dict.fromkeys(shas))
    sizes = dict.fromkeys(wanted, UNKNOWN_SIZE)
    present = present_objects(git, wanted) if partial and wanted else wanted
    if present:
        out = git("cat-file", "--batch-check=%(objectname) %(objectsize)",
                  stdin="\n".join(present).encode() + b"\n")
        for line in out.decode().splitlines():
            sha, _, size = line.partition(" ")
            if size.isdigit():
                sizes[sha] = int(size)
    return sizes


def cat_blobs(git: Git, specs: Sequence[str]) -> dict[str, bytes | None]:
    """Several blobs (`sha`, `rev:path`, `:path`) in one `git cat-file --batch` call; None for
    a spec that names no blob."""
    out = git("cat-file", "--batch",
              stdin="".join(s + "\n" for s in specs).encode("utf-8", "surrogateescape"))
    result: dict[str, bytes | None] = {}
    pos = 0
    for spec in specs:
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():
            result[spec] = None
            continue
        size = int(header[2])
        result[spec] = out[pos:pos + size] if header[1] == b"blob" else None
        pos += size + 1
    return result


class BatchPipe(Protocol):
    """A running `git cat-file --batch` (core.proc.Pipe)."""

    def send(self, data: bytes) -> None: ...
    def readline(self) -> bytes: ...
    def read(self, size: int) -> bytes: ...


_HEX = frozenset("0123456789abcdef")


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in _HEX for c in text)


def fixed(spec: str) -> bool:
    """A spec whose answer never changes: a blob sha, or `<commit sha>:path`."""
    return _is_sha(spec.split(":", 1)[0]) and "\n" not in spec  # one line a question


def pipe_blobs(pipe: BatchPipe, specs: Sequence[str]) -> dict[str, bytes | None]:
    """Several blobs through a running `cat-file --batch`, one question at a time (so
    neither side's buffer can fill); None for a spec that names no blob."""
    result: dict[str, bytes | None] = {}
    for spec in specs:
        pipe.send(spec.encode("utf-8", "surrogateescape") + b"\n")
        header = pipe.readline().rstrip(b"\n").split(b" ")
        if len(header) != 3 or not header[2].isdigit():
            result[spec] = None
            continue
        body = pipe.read(int(header[2]) + 1)[:-1]
        result[spec] = body if header[1] == b"blob" else None
    return result


class BlobReader:
    """Blobs read in bulk: blob shas and `<commit sha>:path` answers are kept for the run
    (each names one content), and the small blobs an audit expects are read together with
    the first of them asked for. Given `opener`, those fixed specs are asked of one
    `cat-file --batch` kept running for the whole run: an audit's steps cost no process
    each."""

    def __init__(self) -> None:
        self.known: dict[str, bytes | None] = {}
        self.expected: dict[str, None] = {}
        self.pipe: BatchPipe | None = None

    def expect(self, shas: Iterable[str]) -> None:
        self.expected.update(dict.fromkeys(s for s in shas if s not in self.known))

    def read(self, git: Git, specs: Sequence[str],
             opener: Callable[[], BatchPipe] | None = None) -> dict[str, bytes | None]:
        unique = list(dict.fromkeys(specs))
        wanted = [s for s in unique if s not in self.known]
        if any(s in self.expected for s in wanted):
            wanted = list(dict.fromkeys([*wanted, *self.expected]))
            self.expected = {}
        found: dict[str, bytes | None] = {}
        if opener is not None and any(fixed(s) for s in wanted):
            if self.pipe is None:
                self.pipe = opener()
            found = pipe_blobs(self.pipe, [s for s in wanted if fixed(s)])
            wanted = [s for s in wanted if not fixed(s)]
            self.known.update(found)
        if wanted:
            found.update(cat_blobs(git, wanted))
        self.known.update((s, b) for s, b in found.items() if _is_sha(s))
        return {s: found[s] if s in found else self.known[s] for s in unique}


def peel(git: Git, shas: Iterable[str]) -> dict[str, tuple[str, str]]:
    """sha -> (the object it names once annotated tags are peeled, that object's type), from
    one `cat-file --batch-check`; shas that name no object are left out."""
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return {}
    out = git("cat-file", "--batch-check=%(objectname) %(objecttype)",
              stdin="".join(f"{sha}^{{}}\n" for sha in wanted).encode(), check=False)
    found = {}
    for sha, line in zip(wanted, out.decode(errors="replace").splitlines(), strict=False):
        name, _, kind = line.partition(" ")
        if kind and not kind.endswith("missing"):
            found[sha] = (name, kind)
    return found
