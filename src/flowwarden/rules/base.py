"""What every rule is: a stable id, a summary, its stages, and a pure check."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from flowwarden.model import Event, Severity, Stage, Violation
from flowwarden.policy.model import Policy

if TYPE_CHECKING:
    from flowwarden.adapters.git import GitRepo


class Context:
    """What a rule may consult besides the event: the policy, the repository, the stage.

    `cache` lets rules share expensive answers (a commit walk, a store lookup) within one run.
    """

    def __init__(self, policy: Policy, repo: GitRepo, stage: Stage, env: Mapping[str, str],
                 cache: dict[str, Any] | None = None) -> None:
        self.policy = policy
        self.repo = repo
        self.stage = stage
        self.env = env
        self.cache: dict[str, Any] = {} if cache is None else cache


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

    def violation(self, subject: str, message: str, fix: str | None = None,
                  details: tuple[str, ...] = ()) -> Violation:
        return Violation(self.id, subject, message, fix, self.default_severity, details)
