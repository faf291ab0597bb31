"""Parsers for git's raw diff output (`--raw -z`, no renames)."""
from __future__ import annotations

from flowwarden.core.records import StagedFile


def parse_raw_diff(raw: bytes) -> list[StagedFile]:
    """Parse `git diff-index/diff-tree --raw -z` (no renames) into StagedFile records; a
    merge's combined lines (`-c`: one colon, mode and sha per parent) give the merge's own
    changes, those that match none of its parents."""
    fields = raw.decode("utf-8", "surrogateescape").split("\0")
    changes = []
    i = 0
    while i + 1 < len(fields):
        meta, path = fields[i], fields[i + 1]
        i += 2
        if not meta.startswith(":"):
            continue
        parents = len(meta) - len(meta.lstrip(":"))
        parts = meta[parents:].split(" ")
        new_mode, new_sha, status = parts[parents], parts[2 * parents + 1], parts[-1]
        if parents > 1:
            status = "D" if set(new_sha) == {"0"} else "A" if set(status) == {"A"} else "M"
        changes.append(StagedFile(path, status[0], new_sha, 0, new_mode))
    return changes


def parse_diff_trees(raw: bytes) -> dict[str, list[StagedFile]]:
    """Parse `diff-tree --stdin -r -z` output: each commit's sha, then its raw changes."""
    found: dict[str, list[StagedFile]] = {}
    fields = raw.split(b"\0")
    current: list[StagedFile] | None = None
    i = 0
    while i < len(fields):
        field = fields[i]
        if field.startswith(b":") and i + 1 < len(fields) and current is not None:
            current.extend(parse_raw_diff(field + b"\0" + fields[i + 1] + b"\0"))
            i += 2
            continue
        if field:
            current = found.setdefault(field.decode(), [])
        i += 1
    return found
