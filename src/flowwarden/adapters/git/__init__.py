"""The git adapter: the only code that runs git, through the one process wrapper."""
from __future__ import annotations

from flowwarden.adapters.git.repo import (
    EMPTY_TREE,
    Commit,
    GitRepo,
    looks_like_sha,
    parse_commit,
    parse_raw_diff,
)
from flowwarden.core.errors import NotARepository

__all__ = ["EMPTY_TREE", "Commit", "GitRepo", "NotARepository", "looks_like_sha",
           "parse_commit", "parse_raw_diff"]
