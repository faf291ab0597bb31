"""Facts about the runs rules' questions, memoized for one run."""
from __future__ import annotations

from flowwarden.adapters.git import GitRepo
from flowwarden.core.stages import Stage
from flowwarden.facts.history import HistoryFacts
from flowwarden.policy.model import Policy


class RunFacts:
    def __init__(self, repo: GitRepo, policy: Policy, stage: Stage,
                 history: HistoryFacts) -> None:
        self.repo = repo
        self.policy = policy
        self.stage = stage
        self.history = history
