"""Blob sizes in bulk, without fetching what a partial clone lacks."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

#: The size of a blob a partial clone lacks: asking would fetch it, so nobody asks.
UNKNOWN_SIZE = -1

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
