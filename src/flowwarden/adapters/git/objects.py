"""Blob sizes in bulk, without fetching what a partial clone lacks."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

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


class BlobReader:
    """Blobs read in bulk: blob shas are kept for the run (a sha names one content), and the
    small blobs an audit expects are read together with the first of them asked for."""

    def __init__(self) -> None:
        self.known: dict[str, bytes | None] = {}
        self.expected: dict[str, None] = {}

    def expect(self, shas: Iterable[str]) -> None:
        self.expected.update(dict.fromkeys(s for s in shas if s not in self.known))

    def read(self, git: Git, specs: Sequence[str]) -> dict[str, bytes | None]:
        unique = list(dict.fromkeys(specs))
        wanted = [s for s in unique if s not in self.known]
        if any(s in self.expected for s in wanted):
            wanted = list(dict.fromkeys([*wanted, *self.expected]))
            self.expected = {}
        found = cat_blobs(git, wanted) if wanted else {}
        self.known.update((s, b) for s, b in found.items() if len(s) in (40, 64) and
                          all(c in "0123456789abcdef" for c in s))
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
