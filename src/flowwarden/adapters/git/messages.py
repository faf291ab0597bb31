"""Commit messages as git handles them: cleanup, the trailer block, and merge subjects."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

SCISSORS = "# ------------------------ >8 ------------------------"
TRAILER_LINE = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)")

_PATTERNS = (
    # GitHub: "Merge pull request #12 from owner/feature/x"
    re.compile(r"Merge pull request #\d+ from (?:[^/\s]+)/(?P<source>\S+)"),
    # git and GitLab: "Merge branch 'feature/x' [of <url>] [into 'develop'|develop]"
    re.compile(r"Merge branch '(?P<source>[^']+)'(?: of \S+)?(?: into '?(?P<target>[^'\s]+)'?)?"),
    # "Merge remote-tracking branch 'origin/feature/x' [into develop]"
    re.compile(r"Merge remote-tracking branch '(?P<remote_source>[^']+)'"
               r"(?: into '?(?P<target>[^'\s]+)'?)?"),
)


class MergeInfo(NamedTuple):
    source: str
    target: str | None
    remote: bool  # source is a remote-tracking name such as origin/feature/x


def parse_merge_message(message: str) -> MergeInfo | None:
    """The merged branch named on the message's first line, None if it names none."""
    subject = message.lstrip().split("\n", 1)[0].strip()
    for pattern in _PATTERNS:
        match = pattern.match(subject)
        if match:
            groups = match.groupdict()
            remote_source = groups.get("remote_source")
            source = remote_source or groups["source"]
            return MergeInfo(source, groups.get("target"), remote_source is not None)
    return None


def strip_remote(name: str, remotes: Iterable[str]) -> str:
    """`origin/feature/x` -> `feature/x` when `origin` is a remote; other names unchanged."""
    for prefix in ("refs/remotes/", "remotes/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    else:
        if name.startswith("refs/heads/"):
            return name[len("refs/heads/"):]
    for remote in sorted(remotes, key=len, reverse=True):
        if name.startswith(remote + "/"):
            return name[len(remote) + 1:]
    return name


def message_text(raw: str) -> str:
    """The message git will record: no comment lines, nothing below the scissors line."""
    lines = []
    for line in raw.splitlines():
        if line.rstrip() == SCISSORS:
            break
        if not line.startswith("#"):
            lines.append(line.rstrip())
    return "\n".join(lines).strip("\n")


def trailer_block(raw: str) -> list[tuple[str, str]]:
    """`(key, value)` pairs of the message's trailer block, git's way.

    The block is the last paragraph, never the first (that is the subject), and every line
    in it is `Key: value` or a continuation indented under one.
    """
    paragraphs = [p for p in re.split(r"\n\s*\n", message_text(raw)) if p.strip()]
    if len(paragraphs) < 2:
        return []
    pairs: list[tuple[str, str]] = []
    for line in paragraphs[-1].splitlines():
        match = TRAILER_LINE.fullmatch(line)
        if match:
            pairs.append((match[1], match[2].strip()))
        elif line[:1] in (" ", "\t") and pairs:
            key, value = pairs[-1]
            pairs[-1] = (key, f"{value} {line.strip()}")
        else:
            return []
    return pairs


def cited_values(raw: str, key: str) -> list[str]:
    """The values of every `key:` trailer (keys compare case-insensitively, as git's do)."""
    return [v for k, v in trailer_block(raw) if k.lower() == key.lower()]


def misplaced(raw: str, key: str) -> bool:
    """A `key:` line exists but not in the trailer block, where git would not see it."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:", re.IGNORECASE | re.MULTILINE)
    return bool(pattern.search(message_text(raw))) and not cited_values(raw, key)
