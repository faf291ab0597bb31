"""Which branch a merge commit brought in, read from the message git or a forge wrote."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

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
