"""Where an event is observed, and the groups of stages rules are written for, defined once."""
from __future__ import annotations

import enum


class Stage(str, enum.Enum):
    """Where an event was observed; rules use it to pick what to check."""

    PRE_COMMIT = "pre-commit"
    PRE_MERGE_COMMIT = "pre-merge-commit"
    COMMIT_MSG = "commit-msg"
    PREPARE_COMMIT_MSG = "prepare-commit-msg"
    PRE_PUSH = "pre-push"
    POST_CHECKOUT = "post-checkout"
    PRE_RECEIVE = "pre-receive"
    CI = "ci"
    CHECK = "check"
    AUDIT = "audit"


#: Stages that run on a developer's machine: FLOWWARDEN_SKIP waives any rule there.
LOCAL_STAGES = frozenset({
    Stage.PRE_COMMIT, Stage.PRE_MERGE_COMMIT, Stage.COMMIT_MSG, Stage.PREPARE_COMMIT_MSG,
    Stage.PRE_PUSH, Stage.POST_CHECKOUT, Stage.CHECK,
})
#: Stages that judge ref updates: a local push, the server, and CI's pushed range.
PUSH_STAGES = frozenset({Stage.PRE_PUSH, Stage.PRE_RECEIVE, Stage.CI})
#: Stages that judge a merge being made: the merge hook, CI's pull request, `check --merge`.
MERGE_STAGES = frozenset({Stage.PRE_MERGE_COMMIT, Stage.CI, Stage.CHECK})
#: `git commit` concluding a conflicted merge runs pre-commit with MERGE_HEAD present.
CONCLUDED_MERGE_STAGES = frozenset({Stage.PRE_COMMIT})
#: Stages that see a commit message.
MESSAGE_STAGES = frozenset({Stage.COMMIT_MSG})
#: Git hook names flowwarden answers to (CI, check and audit are commands, not hooks).
HOOK_STAGES = {s.value: s for s in Stage if s not in (Stage.CI, Stage.CHECK, Stage.AUDIT)}
