"""The git calls a commit hook is sure to make, started before its imports are done.

`GitRepo` runs these very commands; `core.proc.run` then takes the early result instead of
starting git again. Only an exact match is taken (same arguments, directory, environment), so
a wrong guess costs one unused git process, never a wrong answer. Kept light: this module is
imported before anything else of flowwarden's.
"""
from __future__ import annotations

import os

from flowwarden.core import proc

DISCOVER = ("git", "rev-parse", "--is-bare-repository", "--absolute-git-dir",
            "--git-common-dir", "--show-toplevel", "--verify", "-q", "HEAD")
_HEX = frozenset("0123456789abcdef")


def staged_diff(tree: str) -> tuple[str, ...]:
    """The index (GIT_INDEX_FILE honoured) against `tree`, as `GitRepo.staged_changes` asks."""
    return ("git", "diff-index", "--cached", "-z", "--no-renames", tree)


def head_from_files(git_dir: str) -> str | None:
    """HEAD's commit read from a repository's files, without a process: a detached sha, or a
    branch's loose or packed ref. None whenever it takes git to say (unborn, reftable...)."""
    head = _read(os.path.join(git_dir, "HEAD"))
    if head is None or not head.startswith("ref: refs/heads/"):
        return head if head is not None and _is_sha(head) else None
    ref = head[len("ref: "):]
    loose = _read(os.path.join(git_dir, *ref.split("/")))
    if loose is not None:
        return loose if _is_sha(loose) else None
    for line in (_read(os.path.join(git_dir, "packed-refs")) or "").splitlines():
        sha, _, name = line.partition(" ")
        if name == ref and _is_sha(sha):
            return sha
    return None


def start_commit_calls() -> None:
    """At the top of a plain work tree (`.git` a directory, no GIT_DIR), start the
    repository discovery and the staged diff against HEAD."""
    if any(k in os.environ for k in ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR")):
        return
    proc.start_early(DISCOVER)
    head = head_from_files(".git") if os.path.isdir(".git") else None
    if head is not None:
        proc.start_early(staged_diff(head))


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and _HEX.issuperset(text)
