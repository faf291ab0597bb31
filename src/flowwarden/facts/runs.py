"""Facts for the run rules: the messages that must cite runs, and what the store says of them.

An event touches branches of the `runs.branches` kinds; each becomes a Scope of commit
messages. The tracking store is opened once and asked once per run id; once it has failed,
it is not asked again in this run.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from flowwarden.adapters.git import Commit, GitRepo
from flowwarden.adapters.git.messages import (
    cited_values,
    message_text,
    parse_merge_message,
    strip_remote,
)
from flowwarden.adapters.mlflow import RUN_ID, Run, StoreUnreachable, TrackingStore
from flowwarden.core.records import CommitAttempt, CommitMessage, Event, MergeAttempt, Push
from flowwarden.core.redact import redact
from flowwarden.core.stages import Stage
from flowwarden.facts.history import HistoryFacts
from flowwarden.facts.memo import memoized
from flowwarden.policy.model import Policy

FIXUP_PREFIXES = ("fixup! ", "squash! ")
MergedBranch = Callable[[str | None, str | None], str | None]


class Message(NamedTuple):
    """A commit message that may cite runs: `sha` is None for the commit being made."""

    branch: str
    sha: str | None
    text: str
    is_merge: bool

    @property
    def ref(self) -> str:
        """The violation's subject: the branch, or the commit on it."""
        return self.branch if self.sha is None else f"commit {self.sha[:10]} on {self.branch}"

    @property
    def where(self) -> str:
        if self.sha is None:
            return f"the commit message on {self.branch}"
        return f"commit {self.sha[:10]} on {self.branch} ({self.subject!r})"

    @property
    def subject(self) -> str:
        return message_text(self.text).split("\n", 1)[0]

    def is_exempt(self, exempt: frozenset[str]) -> bool:
        return (self.is_merge and "merge" in exempt) or (
            "fixup" in exempt and self.subject.startswith(FIXUP_PREFIXES))


class Scope(NamedTuple):
    """The messages one rule check looks at, and the whole branch for one-per-branch."""

    branch: str
    checked: tuple[Message, ...]  # new messages: each is checked
    whole: tuple[Message, ...]  # all of the branch's own commits (checked among them)
    tip: str | None


class MergeSides(NamedTuple):
    """A merge being made: which branch into which, and their tips."""

    source: str
    target: str
    source_tip: str | None
    target_tip: str | None


def citations(messages: Iterable[Message], key: str) -> list[tuple[Message, str]]:
    """(message, run id) for each well-formed id, newest commit first, each id once."""
    seen: set[str] = set()
    found = []
    for msg in messages:
        for value in cited_values(msg.text, key):
            if RUN_ID.fullmatch(value) and value not in seen:
                seen.add(value)
                found.append((msg, value))
    return found


class RunFacts:
    """What the run rules ask about one run's events, and the tracking store's answers."""

    def __init__(self, repo: GitRepo, policy: Policy, stage: Stage, env: Mapping[str, str],
                 history: HistoryFacts, merged_branch: MergedBranch) -> None:
        self.repo = repo
        self.policy = policy
        self.stage = stage
        self.env = env
        self.history = history
        self.merged_branch = merged_branch
        self._store: TrackingStore | StoreUnreachable | None = None
        self._runs: dict[str, Run | None] = {}
        self._unreachable_said = False

    # --- the messages an event asks about -----------------------------------------------

    @memoized
    def scopes(self, event: Event) -> tuple[Scope, ...]:
        """The branches of a run-citing kind that `event` touches; several rules ask."""
        return tuple(self._scopes(event))

    def _scopes(self, event: Event) -> Iterator[Scope]:
        kinds = self.policy.runs.kinds
        if isinstance(event, CommitMessage):
            if event.branch is not None and self.kind_name(event.branch) in kinds:
                msg = Message(event.branch, None, event.message, event.is_merge)
                yield Scope(event.branch, (msg,), (msg,), None)
        elif (merge := self.merge(event)) is not None:
            if self.kind_name(merge.source) in kinds and merge.source_tip:
                exclude = (merge.target_tip,) if merge.target_tip else ()
                own = self.own_commits(merge.source, merge.source_tip, exclude)
                yield Scope(merge.source, own, own, merge.source_tip)
        elif isinstance(event, Push):
            for update in event.updates:
                branch = update.branch
                if branch and not update.is_delete and self.kind_name(branch) in kinds:
                    own = self.own_commits(branch, update.new)
                    fresh = {c.sha for c in self.history.new_commits(update, event)}
                    yield Scope(branch, tuple(m for m in own if m.sha in fresh), own, update.new)

    @memoized
    def merge(self, event: Event) -> MergeSides | None:
        """The merge `event` makes, None when it makes none."""
        if isinstance(event, MergeAttempt):
            source = self.merged_branch(event.source, event.source_sha) or event.source
            return MergeSides(source, strip_remote(event.target, self.repo.remotes),
                              event.source_sha or self.repo.rev_parse(event.source),
                              event.target_sha or self.repo.rev_parse(event.target))
        if isinstance(event, CommitAttempt) and event.merge_head and event.branch:
            named = self.merged_branch(event.merge_source, event.merge_head)
            return MergeSides(named or event.merge_head, event.branch, event.merge_head,
                              event.head)
        return None

    @memoized
    def own_commits(self, branch: str, tip: str,
                    extra_exclude: tuple[str, ...] = ()) -> tuple[Message, ...]:
        """The branch's own commits: reachable from `tip`, from no branch of another kind."""
        exclude = [*self.foreign_tips(), *extra_exclude]
        return tuple(Message(branch, c.sha, c.message, c.is_merge)
                     for c in self.repo.commits([tip], exclude))

    @memoized
    def foreign_tips(self) -> tuple[str, ...]:
        """Tips of local and remote-tracking branches whose kind cites no runs.

        develop merged into an experiment, or the feature an experiment started from, brings
        commits that never had to cite a run.
        """
        kinds = self.policy.runs.kinds
        tips = []
        for name, sha in self.repo.branch_tips.items():
            short = name.split("/", 2)[2] if name.startswith("remotes/") else name
            kind = self.policy.kind_of(short)
            if kind is not None and kind.name not in kinds:
                tips.append(sha)
        return tuple(tips)

    @memoized
    def merged_side(self, parents: tuple[str, ...]) -> tuple[Commit, ...]:
        """The commits a merge with these parents brings onto its first parent's line."""
        return tuple(self.repo.commits(parents[1:], parents[:1]))

    def merge_source(self, merge: Commit) -> str | None:
        """The branch a merge commit's subject names (a hint: the author chose it)."""
        named = parse_merge_message(merge.message)
        if named is None or named.source is None:
            return None
        return strip_remote(named.source, self.repo.remotes)

    def citing_commit(self, msg: Message) -> str | None:
        """The commit `msg` belongs to; HEAD for the commit being made (None if unborn)."""
        return msg.sha or self.repo.head()

    @memoized
    def in_history(self, origin: str, head: str) -> bool:
        """`origin` is `head` or one of its ancestors."""
        return origin == head or self.repo.is_ancestor(origin, head)

    def kind_name(self, branch: str | None) -> str | None:
        if branch is None:
            return None
        kind = self.policy.kind_of(branch)
        if kind is None:  # origin/experiment/x, as merge messages name it
            kind = self.policy.kind_of(strip_remote(branch, self.repo.remotes))
        return kind.name if kind else None

    # --- the tracking store ----------------------------------------------------------------

    def store(self) -> TrackingStore:
        """The policy's (else the environment's) store; StoreUnreachable, once failed."""
        if isinstance(self._store, StoreUnreachable):
            raise self._store
        if self._store is None:
            from flowwarden.adapters.mlflow import store as stores  # only when asked: urllib

            try:
                uri = self.uri()
                if uri is None:
                    hint = stores.missing_store_hint(self.repo.root or Path.cwd())
                    raise StoreUnreachable("no tracking store configured and no mlflow.db at "
                                           f"the repository root: {hint}")
                self._store = stores.open_store(uri, self.env, self.repo.root,
                                                self.policy.runs.timeout)
            except StoreUnreachable as error:
                self._store = error
                raise
        return self._store

    def lookup(self, run_id: str) -> Run | None:
        """The run with this id, asked once; one timeout per run, not one per run id."""
        if run_id not in self._runs:
            try:
                self._runs[run_id] = self.store().get_run(run_id)
            except StoreUnreachable as error:
                self._store = error
                raise
        return self._runs[run_id]

    @memoized
    def children(self, run_id: str) -> tuple[Run, ...]:
        """A sweep parent's child runs (trials); StoreUnreachable as for lookup."""
        parent = self.lookup(run_id)
        if parent is None:
            return ()
        try:
            return tuple(self.store().child_runs(parent))
        except StoreUnreachable as error:
            self._store = error
            raise

    @memoized
    def model_run(self, model_id: str) -> str | None:
        """The source run of an MLflow 3 logged model (`m-...`); None when unknown."""
        try:
            return self.store().model_run(model_id)
        except StoreUnreachable as error:
            self._store = error
            raise

    def runs_since_last_commit(self) -> list[Run]:
        """Active runs started since HEAD's commit (all, if unborn), whatever their tags."""
        out = self.repo.git("log", "-1", "--format=%ct", "HEAD", "--", check=False)
        seconds = out.decode().strip()
        since = int(seconds) * 1000 if seconds.isdigit() else None
        return self.store().recent_runs(since)

    def uri(self) -> str | None:
        from flowwarden.adapters.mlflow.store import resolve_uri

        return resolve_uri(self.policy.runs.tracking_uri, self.env, self.repo.root)

    def store_name(self) -> str:
        """The store as messages name it, without credentials."""
        if self._store is not None and not isinstance(self._store, StoreUnreachable):
            return redact(self._store.uri)
        uri = self.uri()
        return redact(uri) if uri else "tracking store"

    def first_unreachable_notice(self) -> bool:
        """True once: the first rule to find the store unreachable says so, no other."""
        said, self._unreachable_said = self._unreachable_said, True
        return not said
