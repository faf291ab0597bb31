"""dvc-untracked-data: data and model files go to DVC, not git."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from shlex import quote
from typing import TYPE_CHECKING

from flowwarden.adapters.dvc.paths import sibling
from flowwarden.adapters.git import UNKNOWN_SIZE, Commit
from flowwarden.adapters.git.plumbing import GITLINK, SYMLINK
from flowwarden.core.records import CommitAttempt, Event, Push, Severity, StagedFile, Violation
from flowwarden.core.stages import PUSH_STAGES, Stage
from flowwarden.facts.data import LFS_POINTER_SIZES
from flowwarden.policy.data import DataPolicy, human_size
from flowwarden.rules.base import Context, Rule

if TYPE_CHECKING:
    from flowwarden.adapters.dvc.files import Output


class DvcUntrackedData(Rule):
    id = "dvc-untracked-data"
    summary = "Data and model files go to DVC, not git (by path pattern, extension or size)."
    stages = frozenset({Stage.PRE_COMMIT}) | PUSH_STAGES
    events = (CommitAttempt, Push)
    doc = """\
**What**: refuses a staged file (or, for a push, a file in any pushed commit) that is data
or a model artifact: it matches `data.patterns` (by default `data/**`, `models/**` and the
usual data and model extensions) or its staged blob is larger than `data.max_size`
(default 1 MiB). `data.exempt` lists what is never data (`*.dvc`, `dvc.lock`, READMEs, ...).
Where tests, docs and examples keep their files (`data.fixtures`: `tests/**`, `docs/**`,
`**/fixtures/**`, ...) only size makes a file data, over `data.fixture_max_size` (10 MiB): a
4 KiB CSV fixture is not data, a 40 MB parquet file is, wherever it sits. In a partial clone
a blob it lacks is never fetched: its size is unknown, and only the patterns judge it.
A Git LFS pointer is reported according to `data.lfs`.

**Why**: a dataset committed to git stays in its history forever: every clone downloads
it, and removing it means rewriting history. DVC keeps the data out of git and a small
`.dvc` file in it.

**Example**: `git add data/train.csv && git commit` fails with
`dvc-untracked-data: data/train.csv is staged into git (matches data/**, 12 KiB);
expected data and models to be versioned with DVC, not git`.

**Fix**: `git rm --cached data/train.csv && dvc add data/train.csv &&
git add data/train.csv.dvc data/.gitignore` (run `dvc init` first in a repository
without DVC).
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        files: Sequence[tuple[Commit | None, StagedFile]]
        if isinstance(event, CommitAttempt):
            files = [(None, f) for f in event.staged]
        elif isinstance(event, Push):
            files = ctx.facts.data.push_changes(event)
        else:
            return
        policy = ctx.policy.data
        candidates = [(c, f) for c, f in files
                      if f.status != "D" and f.mode not in (SYMLINK, GITLINK)
                      and policy.exempt.first(f.path) is None]
        # Only small blobs can be LFS pointers, and only those worth reporting are read.
        small = [f.blob for _, f in candidates if f.size in LFS_POINTER_SIZES
                 and (policy.lfs != "allow" or policy.data.first(f.path) is not None)]
        pointers = ctx.facts.data.lfs_pointers(small) if small else frozenset()
        for commit, f in candidates:
            if f.blob in pointers:
                if policy.lfs != "allow":
                    yield self._lfs(f, commit, policy)
                continue
            reasons = _reasons(f, policy)
            if reasons:
                stage = _stage_output(ctx, event, f.path)
                yield self._data(f, commit, reasons, ctx.facts.data.dvc_ready, stage)

    def _data(self, f: StagedFile, commit: Commit | None, reasons: str,
              ready: bool, stage: Output | None = None) -> Violation:
        path = quote(f.path)
        redo = (f"git rm --cached {path} && dvc add {path} && "
                f"git add {quote(f.path + '.dvc')} {quote(sibling(f.path, '.gitignore'))}")
        if stage is not None and stage.stage is not None:
            # `dvc add` refuses a stage's output ("overlaps with an output of stage")
            redo = (f"git rm --cached {path} && dvc commit -f {quote(stage.stage)} && "
                    f"git add {quote(stage.source)}")
        if not ready:
            redo = "dvc init && " + redo
        if commit is None:
            return self.violation(
                f.path, f"{f.path} is staged into git ({reasons}); expected data and models "
                "to be versioned with DVC, not git", redo,
                () if ready else ("this repository does not use DVC yet: `dvc init` sets it up",),
                path=f.path)
        return self.violation(
            f"{commit.sha[:7]}:{f.path}",
            f"{f.path} is committed to git in {commit.sha[:7]} ({reasons}); expected data "
            "and models to be versioned with DVC, not git", _rewrite(commit, redo), path=f.path)

    def _lfs(self, f: StagedFile, commit: Commit | None, policy: DataPolicy) -> Violation:
        path = quote(f.path)
        redo = (f"git rm --cached {path} && git lfs untrack {path} && dvc add {path} && "
                f"git add .gitattributes {quote(f.path + '.dvc')} "
                f"{quote(sibling(f.path, '.gitignore'))}")
        where = "staged" if commit is None else f"committed in {commit.sha[:7]}"
        violation = self.violation(
            f.path if commit is None else f"{commit.sha[:7]}:{f.path}",
            f"{f.path} is {where} as a Git LFS pointer; this policy versions data with DVC "
            f"(data.lfs: {policy.lfs})", redo if commit is None else _rewrite(commit, redo),
            path=f.path)
        return violation if policy.lfs == "block" else violation.with_severity(Severity.WARNING)


def _reasons(f: StagedFile, policy: DataPolicy) -> str:
    """Why `f` is data ("matches data/**, 12 KiB"), or "" when it is not. A file where tests
    and docs keep theirs (`data.fixtures`) is data by size alone, over its own limit."""
    reasons = []
    fixture = policy.fixtures.first(f.path)
    pattern = None if fixture else policy.data.first(f.path)
    limit = policy.fixture_max_size if fixture else policy.max_size
    if pattern is not None:
        reasons.append(f"matches {pattern}")
    decimal = policy.decimal_sizes
    if f.size == UNKNOWN_SIZE:  # a partial clone lacks the blob: asking would fetch it
        if reasons:
            reasons.append("size unknown (partial clone)")
    elif limit is not None and f.size > limit:
        where = f" for {fixture}" if fixture else ""
        shown = (policy.max_size_text if not fixture and policy.max_size_text
                 else human_size(limit, decimal))
        reasons.append(f"{human_size(f.size, decimal)}, over the {shown} limit{where}")
    elif reasons:
        reasons.append(human_size(f.size, decimal))
    return ", ".join(reasons)


def _stage_output(ctx: Context, event: Event, path: str) -> Output | None:
    """The staged `dvc.lock` output `path` is, at commit time (a stage's output is re-cached
    with `dvc commit <stage>`, never `dvc add`)."""
    if not isinstance(event, CommitAttempt) or not ctx.facts.data.dvc_ready:
        return None
    return next((o for lock in ctx.facts.data.staged_locks(event) for o in lock.outs
                 if o.path == path and not ctx.facts.data.project_of(o.source)), None)


def _rewrite(commit: Commit, redo: str) -> str:
    """Redo `commit` without the data: an interactive rebase that stops at it."""
    base = f"{commit.sha[:7]}~1" if commit.parents else "--root"
    return (f"git rebase -i {base}  (mark {commit.sha[:7]} as edit), then: {redo} && "
            "git commit --amend --no-edit && git rebase --continue")


RULE = DvcUntrackedData()
