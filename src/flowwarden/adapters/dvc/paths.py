"""Where DVC's files and outputs are, as repository-relative posix paths: string work only."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


def is_dvc_file(path: str) -> bool:
    """A `.dvc` file or a `dvc.lock`: the files that name cached outputs."""
    name = posixpath.basename(path)
    return name == "dvc.lock" or (name.endswith(".dvc") and name != ".dvc")


def is_lock(path: str) -> bool:
    return posixpath.basename(path) == "dvc.lock"


def sibling(path: str, name: str) -> str:
    """`name` in the directory of `path`."""
    parent = posixpath.dirname(path)
    return posixpath.join(parent, name) if parent else name


def repo_path(base_file: str, path: str) -> str | None:
    """`path` as written in `base_file` (relative to its directory), relative to the repo root.

    None for an external output (absolute, a URL, or outside the repository).
    """
    if not path or path.startswith("/") or SCHEME.match(path) or re.match(r"^[A-Za-z]:", path):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base_file), path))
    return None if joined == ".." or joined.startswith("../") else joined


def covered(listed: Iterable[str], paths: Iterable[str]) -> set[str]:
    """Which of `paths` are in `listed`, as files or as directories with files under them."""
    wanted = set(paths)
    hits: set[str] = set()
    for path in listed:
        parts = path.split("/")
        hits.update(p for p in ("/".join(parts[:i]) for i in range(1, len(parts) + 1))
                    if p in wanted)
    return hits
