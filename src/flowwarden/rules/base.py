"""What every rule is: a stable id, a summary, its stages, and a pure check."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any, ClassVar, TextIO

from flowwarden.adapters.git import GitRepo
from flowwarden.core.records import Event, Severity, Violation
from flowwarden.core.stages import Stage
from flowwarden.facts import Facts
from flowwarden.policy.model import Policy


class Context:
    """What a rule may consult besides the event: the policy, the stage, the environment, and
    the facts of this run (which alone ask the repository). `progress` is where commands
    this run executes (the policy's checks) stream their output; None: it runs none.
    `commands` is the policy whose checks may run, when it is not `policy` (at a local merge,
    the target's committed policy: the work tree holds the incoming branch's). `judge` is
    the revision whose committed policy judges, when it is not the work tree's (CI)."""

    def __init__(self, policy: Policy, repo: GitRepo, stage: Stage,
                 env: Mapping[str, str], progress: TextIO | None = None,
                 commands: Policy | None = None, judge: str | None = None) -> None:
        self.policy = policy
        self.repo = repo
        self.stage = stage
        self.env = env
        self.progress = progress
        self.commands = commands or policy
        self.judge = judge
        self.cache: dict[str, Any] = {}

    @cached_property
    def facts(self) -> Facts:
        return Facts(self.repo, self.policy, self.stage, self.env, self.progress,
                     self.commands)


class Rule:
    """Subclasses set the class attributes and implement `check`; docs come from `doc`.

    `doc` is markdown with four parts: what it does, why it matters, an example, the fix.
    """

    id: ClassVar[str]
    summary: ClassVar[str]
    stages: ClassVar[frozenset[Stage]]
    events: ClassVar[tuple[type, ...]]
    default_severity: ClassVar[Severity] = Severity.ERROR
    doc: ClassVar[str] = ""

    def applies(self, event: Event, stage: Stage) -> bool:
        return stage in self.stages and isinstance(event, self.events)

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        raise NotImplementedError

    def notes(self, event: Event, ctx: Context) -> tuple[str, ...]:
        """What the output should say beside the violations (asked after `check`)."""
        return ()

    def violation(self, subject: str, message: str, fix: str | None = None,
                  details: tuple[str, ...] = (), path: str | None = None,
                  commits: tuple[str, ...] = ()) -> Violation:
        """`path`: the repository file the finding is about (reports point at it); `commits`:
        the commits it is about (full shas), which alone may waive it by trailer."""
        return Violation(self.id, subject, message, fix, self.default_severity, details,
                         path=path, commits=commits)


class CommandRule(Rule):
    """A rule whose facts run commands (the policy's tests). The engine runs it last, not at
    all when the event is already refused or FLOWWARDEN_SKIP skips it, and it says aloud what
    it left undone."""

    def planned(self, event: Event, ctx: Context) -> tuple[str, ...]:
        """What `check` would run for this event, running nothing (for a skip's note)."""
        raise NotImplementedError

    def notes(self, event: Event, ctx: Context) -> tuple[str, ...]:
        """What `check` left undone, and why."""
        return ()
