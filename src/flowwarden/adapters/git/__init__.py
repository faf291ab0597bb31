"""The git adapter: the only code that runs git, through the one process wrapper."""
from __future__ import annotations

from flowwarden.adapters.git.diffs import parse_raw_diff
from flowwarden.adapters.git.graph import Commit, CommitGraph, parse_commit
from flowwarden.adapters.git.objects import UNKNOWN_SIZE
from flowwarden.adapters.git.repo import EMPTY_TREE, GitRepo, looks_like_sha
from flowwarden.core.errors import NotARepository

__all__ = ["EMPTY_TREE", "UNKNOWN_SIZE", "Commit", "CommitGraph", "GitRepo", "NotARepository",
           "looks_like_sha", "parse_commit", "parse_raw_diff"]
