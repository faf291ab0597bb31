"""Where a merged commit came from: evidence the judging side holds, the subject only a hint.

A merge commit's subject is text its author chose. What the judging side can check is which
refs hold the merged commit: branches before and after the push (including those the same push
creates or deletes), the pull request's source in CI, the ref being merged at pre-merge-commit,
and tags (git-flow AVH merges a release's tag back into develop).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from flowwarden.adapters.git.messages import MergeInfo, parse_merge_message, strip_remote

#: How a source was established, strongest first; the last two are not evidence.
PROVEN = ("request", "local ref", "ref", "created ref", "deleted ref", "tag")
HINTS = ("subject", "none")


class Evidence(NamedTuple):
    """The branch a merged commit came from, and how that is known."""

    branch: str | None  # short branch name; None when nothing names one
    how: str  # one of PROVEN or HINTS
    detail: str  # for messages: "refs/heads/feature/x at 1a2b3c4d5e"
    claimed: str | None = None  # what the subject claims, when it differs from the evidence

    @property
    def proven(self) -> bool:
        return self.how in PROVEN


class RefView(NamedTuple):
    """The refs the judging side holds for this event."""

    tips: Mapping[str, str]  # branch short name -> sha: before the push, and created by it
    created: frozenset[str] = frozenset()  # names in `tips` this push creates
    deleted: Mapping[str, str] = {}  # branch short name -> the sha this push deletes it at
    tags: Mapping[str, str] = {}  # tag name -> the commit it names
    request: tuple[str, str] | None = None  # CI: (source branch, its sha)
    remotes: tuple[str, ...] = ()  # remote names, to read `origin/feature/x` as feature/x


def merge_evidence(parent: str, message: str, view: RefView,
                   resolve_tag: Callable[[str], Evidence | None] | None = None) -> Evidence:
    """Where the merge whose second parent is `parent` came from.

    `resolve_tag(sha)` answers for a tagged commit (the back-merge of a release's tag): the
    evidence of the merge the tag names, when that commit is on a protected branch.
    """
    hint = parse_merge_message(message)
    claimed = _claimed(hint, view.remotes)
    if view.request is not None and view.request[1] == parent:
        return _found(view.request[0], "request", f"the pull request's source {view.request[0]}",
                      claimed)
    held = sorted(name for name, sha in view.tips.items() if sha == parent)
    if held:
        name = claimed if claimed in held else held[0]
        how = "created ref" if name in view.created else "ref"
        return _found(name, how, f"refs/heads/{name} at {parent[:10]}", claimed)
    gone = sorted(name for name, sha in view.deleted.items() if sha == parent)
    if gone:
        name = claimed if claimed in gone else gone[0]
        return _found(name, "deleted ref", f"refs/heads/{name}, deleted by this push at "
                      f"{parent[:10]}", claimed)
    tags = sorted(name for name, sha in view.tags.items() if sha == parent)
    if tags and resolve_tag is not None:
        back = resolve_tag(parent)
        if back is not None and back.proven:
            return Evidence(back.branch, "tag", f"tag {tags[0]}, {back.detail}")
    if claimed is not None:
        return Evidence(claimed, "subject", f"only the subject {hint_text(message)!r} names it")
    return Evidence(None, "none", f"no ref holds {parent[:10]} and the subject names no branch")


def _claimed(hint: MergeInfo | None, remotes: tuple[str, ...]) -> str | None:
    if hint is None or hint.source is None or hint.via in ("tag", "commit"):
        return None
    return strip_remote(hint.source, remotes)


def _found(branch: str, how: str, detail: str, claimed: str | None) -> Evidence:
    return Evidence(branch, how, detail, claimed if claimed not in (None, branch) else None)


def hint_text(message: str) -> str:
    """The subject as quoted in messages: its first line, cut to 80 characters."""
    subject = message.lstrip().split("\n", 1)[0].strip()
    return subject if len(subject) <= 80 else subject[:77] + "..."
