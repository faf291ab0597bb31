"""Commit messages as git handles them: cleanup, the trailer block, and merge subjects."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

SCISSORS = "# ------------------------ >8 ------------------------"
TRAILER_LINE = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)")

_INTO = r"(?: into '?(?P<target>[^'\s]+)'?)?"
_OF = r"(?: of \S+)?"
#: Merge subjects git and the forges write, as (how the source is named, forge, pattern).
#: Subjects are untrusted text: every pattern is anchored and free of nested repetition.
_SUBJECTS = (
    # GitHub, and its older "Merged pull request #12 from owner/x."
    ("pull-request", "github",
     re.compile(r"Merged? pull request #(?P<number>\d+) from [^/\s]+/(?P<source>\S+?)\.?")),
    # Gitea and DagsHub: "Merge pull request 'title' (#7) from feature/x into develop"
    ("pull-request", "gitea",
     re.compile(r"Merge pull request '.*' \(#(?P<number>\d+)\) from (?P<source>\S+)"
                r" into (?P<target>\S+)")),
    # git and GitLab: "Merge branch 'feature/x' [of <url>] [into 'develop'|develop]"
    ("branch", "git", re.compile(r"Merge branch '(?P<source>[^']+)'" + _OF + _INTO)),
    # "Merge remote-tracking branch 'origin/feature/x'", git before 1.7.3 "Merge remote branch"
    ("remote-branch", "git",
     re.compile(r"Merge remote(?:-tracking)? branch '(?P<source>[^']+)'" + _OF + _INTO)),
    # git-flow AVH's release finish merges the tag back: "Merge tag '1.11.0' into develop"
    ("tag", "git", re.compile(r"Merge tag '(?P<source>[^']+)'" + _OF + _INTO)),
    ("commit", "git", re.compile(r"Merge commit '(?P<source>[0-9a-f]{7,64})'" + _INTO)),
    # Bitbucket: "Merged in feature/x (pull request #12)"
    ("pull-request", "bitbucket",
     re.compile(r"Merged in (?P<source>\S+) \(pull request #(?P<number>\d+)\)")),
    # Azure DevOps: "Merged PR 123: title" (the source branch is not named)
    ("pull-request", "azure", re.compile(r"Merged PR (?P<number>\d+): .*")),
)
_GITLAB_REQUEST = re.compile(r"^See merge request (?P<project>\S+)!(?P<number>\d+)\s*$",
                             re.MULTILINE)
_SQUASHED = re.compile(r".*\S \(#(?P<number>\d+)\)")
#: Longer subjects are not merge subjects any forge writes; cut before matching.
MAX_SUBJECT = 1000


class MergeInfo(NamedTuple):
    """What a merge commit's message says it merged: a hint, never evidence."""

    source: str | None  # branch, remote-tracking branch, tag or commit; None for Azure's PRs
    target: str | None
    remote: bool  # source is a remote-tracking name such as origin/feature/x
    via: str = "branch"  # branch | remote-branch | tag | commit | pull-request
    forge: str = "git"  # git | github | gitlab | gitea | bitbucket | azure
    number: int | None = None  # the pull or merge request's number, when named


def subject_of(message: str) -> str:
    """The message's first line, stripped and cut to MAX_SUBJECT characters."""
    return message.lstrip().split("\n", 1)[0].strip()[:MAX_SUBJECT]


def parse_merge_message(message: str) -> MergeInfo | None:
    """What the message's subject (and GitLab's `See merge request` line) says was merged;
    None when the subject is not one git or a forge writes."""
    subject = subject_of(message)
    for via, forge, pattern in _SUBJECTS:
        match = pattern.fullmatch(subject)
        if match is None:
            continue
        groups = match.groupdict()
        number = int(groups["number"]) if groups.get("number") else None
        if forge == "git" and (request := _GITLAB_REQUEST.search(message[:100_000])):
            forge, number = "gitlab", int(request["number"])
        return MergeInfo(groups.get("source"), groups.get("target"), via == "remote-branch",
                         via, forge, number)
    return None


def squashed_request(message: str) -> int | None:
    """The pull request number of a squash merge's subject (`Title (#12)`), if it has one."""
    match = _SQUASHED.fullmatch(subject_of(message))
    return int(match["number"]) if match else None


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
    pairs: list[tuple[str, list[str]]] = []  # continuation lines joined once, at the end
    for line in paragraphs[-1].splitlines():
        match = TRAILER_LINE.fullmatch(line)
        if match:
            pairs.append((match[1], [match[2].strip()]))
        elif line[:1] in (" ", "\t") and pairs:
            pairs[-1][1].append(line.strip())
        else:
            return []
    return [(key, " ".join(parts)) for key, parts in pairs]


def cited_values(raw: str, key: str) -> list[str]:
    """The values of every `key:` trailer (keys compare case-insensitively, as git's do)."""
    return [v for k, v in trailer_block(raw) if k.lower() == key.lower()]


def misplaced(raw: str, key: str) -> bool:
    """A `key:` line exists but not in the trailer block, where git would not see it."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:", re.IGNORECASE | re.MULTILINE)
    return bool(pattern.search(message_text(raw))) and not cited_values(raw, key)
