"""Check results: the policy's test commands for a merge target, run once per run."""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, TextIO

from flowwarden.adapters.checks import Check, CheckResult, run_check
from flowwarden.adapters.git import GitRepo
from flowwarden.facts.memo import memoized
from flowwarden.policy.model import Policy


class CheckRun(NamedTuple):
    """What became of the checks for a merge into `target`."""

    target: str
    results: tuple[CheckResult, ...] = ()
    not_run: str | None = None  # why the checks did not run here, said as a note

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.passed)


class CheckFacts:
    """The policy's checks, run in the work tree with their output streamed to `progress`;
    with no `progress` this run runs no commands (CI without --run-checks, check, audit)."""

    def __init__(self, repo: GitRepo, policy: Policy, env: Mapping[str, str],
                 progress: TextIO | None) -> None:
        self.repo = repo
        self.policy = policy
        self.env = env
        self.progress = progress

    @memoized
    def planned(self, target: str) -> tuple[Check, ...]:
        """The checks a merge into `target` would run here (none when this run runs none)."""
        return self.policy.checks_for(target) if self.progress is not None else ()

    @memoized
    def before_merge(self, target: str, tip: str | None = None) -> CheckRun:
        """Run the checks for a merge into `target`, once. `tip`: the commit they must test
        (a push's new tip); they run only when the work tree is at it, else CI runs them."""
        checks = self.planned(target)
        if not checks or self.progress is None:
            return CheckRun(target)
        if self.repo.root is None:
            return CheckRun(target, not_run=f"{len(checks)} check(s) for merges into {target} "
                                            "cannot run in a bare repository; CI runs them")
        if tip is not None and tip != self.repo.head():
            return CheckRun(target, not_run=f"checks for {target} not run: the work tree is "
                                            f"not at the pushed commit {tip[:10]}; CI runs them")
        why = f"before merging into {target}"
        return CheckRun(target, tuple(run_check(c, why, self.repo.root, self.env, self.progress)
                                      for c in checks))
