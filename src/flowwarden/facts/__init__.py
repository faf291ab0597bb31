"""Facts: typed, memoized answers about the events of one run.

Rules ask facts; facts ask the adapters. Each domain keeps its questions in its own module
(`history`, `provenance`, `data`, `runs`), reached as `ctx.facts.history` and so on.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TextIO

from flowwarden.adapters.git import GitRepo
from flowwarden.adapters.git.messages import strip_remote
from flowwarden.core.stages import Stage
from flowwarden.facts.checks import CheckFacts
from flowwarden.facts.data import DataFacts
from flowwarden.facts.history import HistoryFacts
from flowwarden.facts.memo import memoized
from flowwarden.facts.provenance import ProvenanceFacts
from flowwarden.facts.runs import RunFacts
from flowwarden.policy.model import Policy


class Facts:
    """Everything a rule may ask about the repository in one run, each answered once."""

    def __init__(self, repo: GitRepo, policy: Policy, stage: Stage,
                 env: Mapping[str, str] | None = None, progress: TextIO | None = None,
                 commands: Policy | None = None) -> None:
        self.repo = repo
        self.policy = policy
        self.commands = commands or policy  # the policy whose checks may run commands
        self.stage = stage
        self.env = env or {}
        self.progress = progress  # where commands run for a fact stream their output

    @cached_property
    def history(self) -> HistoryFacts:
        return HistoryFacts(self.repo, self.stage, self._protected)

    def _protected(self, branch: str) -> bool:
        kind = self.policy.kind_of(branch)
        return kind is not None and kind.protected

    @cached_property
    def provenance(self) -> ProvenanceFacts:
        return ProvenanceFacts(self.repo, self.policy, self.stage, self.history)

    @cached_property
    def data(self) -> DataFacts:
        return DataFacts(self.repo, self.policy, self.stage, self.history, self.env)

    @cached_property
    def runs(self) -> RunFacts:
        return RunFacts(self.repo, self.policy, self.stage, self.env, self.history,
                        self.merged_branch)

    @cached_property
    def checks(self) -> CheckFacts:
        return CheckFacts(self.repo, self.commands, self.env, self.progress)

    @memoized
    def merged_branch(self, name: str | None, sha: str | None) -> str | None:
        """The branch a merged name or commit stands for: remote prefixes dropped, refs
        consulted when the name matches no kind."""
        if name:
            short = strip_remote(name, self.repo.remotes)
            if self.policy.kind_of(short) is not None or sha is None:
                return short
        if sha:
            named = [strip_remote(n, self.repo.remotes)
                     for n, tip in self.repo.branch_tips.items() if tip == sha]
            return next((n for n in named if self.policy.kind_of(n)), named[0] if named else name)
        return name
