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


def strip_space(text: str, comment: str | None = None) -> str:
    """git's `strbuf_stripspace`: trailing spaces off every line, runs of blank lines collapsed,
    none at either end; lines starting with `comment` dropped when it is given."""
    lines: list[str] = []
    for line in text.split("\n"):
        if comment and line.startswith(comment):
            continue
        line = line.rstrip()
        if not line and (not lines or not lines[-1]):
            continue
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "".join(f"{line}\n" for line in lines)


def scissors_at(text: str, comment: str = "#") -> int:
    """Where git's cut line (`<comment> ------------------------ >8 ----...`) starts, or the
    text's length."""
    cut = f"{comment} {SCISSORS[2:]}\n"
    if text.startswith(cut):
        return 0
    at = text.find("\n" + cut)
    return len(text) if at < 0 else at + 1


#: What `core.commentChar=auto` picks from: the first of these no line starts with.
AUTO_COMMENT = "#;@!$%^&|:"


def comment_char(configured: str | None, raw: str) -> str:
    """The comment character git used in a message file: `core.commentChar` (`#` unset); for
    `auto`, the one its own cut line or trailing comment block starts with."""
    if configured and configured != "auto":
        return configured
    if configured is None:
        return "#"
    for char in AUTO_COMMENT:
        if scissors_at(raw, char) < len(raw):
            return char
    last = next((line for line in reversed(raw.split("\n")) if line.strip()), "")
    return last[0] if last[:1] and last[0] in AUTO_COMMENT else "#"


CLEANUP_MODES = ("strip", "whitespace", "verbatim", "scissors", "default")


def cleanup(raw: str, mode: str, comment: str = "#", editor: bool = True,
            verbose: bool = True) -> str:
    """The message git records from the file `raw` under `--cleanup=mode`, as git's
    get_cleanup_mode and cleanup_message apply it: `default` is strip with an editor and
    whitespace without, scissors without an editor is whitespace, and the text is cut at the
    scissors line under scissors or `verbose` (`git commit -v`, `commit.verbose`; assume it
    when the command line is unknown: git writes that line for -v)."""
    if mode == "default" or mode not in CLEANUP_MODES:
        mode = "strip" if editor else "whitespace"
    elif mode == "scissors" and not editor:
        mode = "whitespace"
    if verbose or mode == "scissors":
        raw = raw[:scissors_at(raw, comment)]
    if mode == "verbatim":
        return raw
    return strip_space(raw, comment if mode == "strip" else None)


def message_text(raw: str) -> str:
    """A recorded message's text: git applies no cleanup to what it recorded, so only the
    whitespace at either end goes."""
    return strip_space(raw).strip("\n")


_GIT_PREFIXES = ("Signed-off-by: ", "(cherry picked from commit ")


def _separator(line: str) -> int:
    """git's find_separator: `-1`, or where `:` follows a token and optional blanks."""
    blank = False
    for i, char in enumerate(line):
        if char == ":":
            return i
        if not blank and (char.isascii() and char.isalnum() or char == "-"):
            continue
        if i and char in " \t":
            blank = True
            continue
        break
    return -1


def _block_start(lines: list[str], comment: str) -> int:
    """Index of the trailer block's first line (`len(lines)` when there is none), as git's
    find_trailer_block_start: all trailers, or >= 25% with one git-generated line."""
    title = next((i for i, line in enumerate(lines)
                  if not line.startswith(comment) and not line.strip()), len(lines))
    only_spaces, recognized = True, False
    trailers = non_trailers = continuations = 0
    for i in range(len(lines) - 1, title - 1, -1):
        line = lines[i]
        if line.startswith(comment):
            non_trailers, continuations = non_trailers + continuations, 0
        elif not line.strip():
            if only_spaces:
                continue
            non_trailers += continuations
            if (recognized and trailers * 3 >= non_trailers) or (trailers and not non_trailers):
                return i + 1
            return len(lines)
        else:
            only_spaces = False
            if line.startswith(_GIT_PREFIXES):
                trailers, continuations, recognized = trailers + 1, 0, True
            elif _separator(line) >= 1 and not line[0].isspace():
                trailers, continuations = trailers + 1, 0
            elif line[0].isspace():
                continuations += 1
            else:
                non_trailers, continuations = non_trailers + 1 + continuations, 0
    return len(lines)


def _trailer_end(lines: list[str], comment: str) -> int:
    """git's ignore_non_trailer: the trailing comments and blank lines are not the block."""
    end = len(lines)
    while end and (lines[end - 1].startswith(comment) or not lines[end - 1].strip()):
        end -= 1
    return end


def trailer_block(raw: str, comment: str = "#") -> list[tuple[str, str]]:
    """`(key, value)` pairs of the message's trailers, as `git interpret-trailers --parse`
    finds them: nothing below a `---` divider or the cut line, comments skipped, continuation
    lines unfolded, the 25% rule for blocks with a git-generated line."""
    text = raw[:scissors_at(raw, comment)]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    divider = next((i for i, line in enumerate(lines)
                    if line.startswith("---") and (len(line) == 3 or line[3].isspace())),
                   len(lines))
    lines = lines[:divider]
    lines = lines[:_trailer_end(lines, comment)]
    pairs: list[tuple[str, list[str]]] = []  # continuation lines joined once, at the end
    last: int | None = None
    for line in lines[_block_start(lines, comment):]:
        if line.startswith(comment):
            continue
        if line[:1].isspace() and last is not None:
            pairs[last][1].append(line)
            continue
        at = _separator(line)
        if at >= 1:
            pairs.append((line[:at].strip(), [line[at + 1:]]))
            last = len(pairs) - 1
        else:
            last = None
    return [(key, re.sub(r"\n\s*", " ", "\n".join(parts)).strip()) for key, parts in pairs]


def cited_values(raw: str, key: str) -> list[str]:
    """The values of every `key:` trailer (keys compare case-insensitively, as git's do)."""
    return [v for k, v in trailer_block(raw) if k.lower() == key.lower()]


def misplaced(raw: str, key: str) -> bool:
    """A `key:` line exists but not in the trailer block, where git would not see it."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:", re.IGNORECASE | re.MULTILINE)
    return bool(pattern.search(message_text(raw))) and not cited_values(raw, key)
