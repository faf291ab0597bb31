"""The records that flow through flowwarden: events in, violations out.

Records are NamedTuples rather than dataclasses: hooks import this module on every commit, and
building a dataclass costs ten times more at import.
"""
from __future__ import annotations

import enum
from typing import NamedTuple

ZERO_SHA = "0" * 40


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    OFF = "off"


class StagedFile(NamedTuple):
    """One path in the staged change: status is git's letter (A, M, D, R, C, T)."""

    path: str
    status: str
    blob: str  # staged blob sha, ZERO_SHA for a deletion
    size: int  # staged blob size in bytes, 0 for a deletion
    mode: str = "100644"


class CommitAttempt(NamedTuple):
    """`git commit` is about to record the staged tree on `branch` (None: detached)."""

    branch: str | None
    head: str | None  # None on an unborn branch
    staged: tuple[StagedFile, ...]
    merge_head: str | None = None  # set while concluding a conflicted merge
    merge_source: str | None = None  # the merged branch's name, when known


class MergeAttempt(NamedTuple):
    """`source` is being merged into `target` (a hook, CI, or `check --merge`)."""

    source: str
    target: str
    source_sha: str | None = None
    target_sha: str | None = None


class CommitMessage(NamedTuple):
    """A commit message about to be recorded on `branch`."""

    branch: str | None
    message: str
    path: str | None = None  # the message file git passed, if any
    is_merge: bool = False
    source: str | None = None  # prepare-commit-msg's: message, template, merge, squash, commit


class RefUpdate(NamedTuple):
    """One ref a push (or a receive) moves: ZERO_SHA for created or deleted."""

    ref: str
    old: str
    new: str
    local_ref: str | None = None

    @property
    def branch(self) -> str | None:
        return self.ref[len("refs/heads/"):] if self.ref.startswith("refs/heads/") else None

    @property
    def is_delete(self) -> bool:
        return self.new == ZERO_SHA

    @property
    def is_create(self) -> bool:
        return self.old == ZERO_SHA


class Push(NamedTuple):
    """A set of ref updates: pre-push, pre-receive, or a CI push range."""

    updates: tuple[RefUpdate, ...]
    remote: str | None = None  # the remote's name at pre-push, None on the server
    url: str | None = None
    #: pre-push: whether git may overwrite the remote's branches (--force, --mirror, a `+`
    #: refspec); None when the command line is unknown. An unforced non-fast-forward update
    #: is git's to reject.
    forced: bool | None = None


class BranchCreated(NamedTuple):
    """post-checkout saw a new branch: `branch` now points at `head`."""

    branch: str
    head: str
    previous: str | None = None  # the branch checked out before, if any


class BranchQuery(NamedTuple):
    """`flowwarden check --branch NAME`: is this name (and its history) allowed?"""

    branch: str


Event = CommitAttempt | MergeAttempt | CommitMessage | Push | BranchCreated | BranchQuery


class Violation(NamedTuple):
    """One broken rule: what, where, actual vs expected, and the command that fixes it."""

    rule: str
    subject: str
    message: str
    fix: str | None = None
    severity: Severity = Severity.ERROR
    details: tuple[str, ...] = ()
    waived_by: str | None = None  # set when a waiver or FLOWWARDEN_SKIP turned it off
    path: str | None = None  # the repository file the finding is about, if it is about one
    commits: tuple[str, ...] = ()  # the commits it is about (full shas), for waiver trailers

    def with_severity(self, severity: Severity) -> Violation:
        return self._replace(severity=severity)

    def waived(self, reason: str) -> Violation:
        return self._replace(waived_by=reason)


class Outcome(NamedTuple):
    """What a run decided: every violation (waived ones included) and notes said aloud."""

    violations: tuple[Violation, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def blocking(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations
                     if v.severity is Severity.ERROR and v.waived_by is None)
