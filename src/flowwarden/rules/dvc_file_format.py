"""dvc-file-format: the `.dvc` files, `dvc.lock`s and `dvc.yaml`s a change brings are in
DVC's format."""
from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from flowwarden.adapters.dvc.paths import is_dvc_file, is_lock, sibling
from flowwarden.core.records import CommitAttempt, Event, Push, Violation
from flowwarden.core.stages import PUSH_STAGES, Stage
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import shell_word

if TYPE_CHECKING:
    from flowwarden.adapters.dvc.format import Problem


def _is_checked(path: str) -> bool:
    return is_dvc_file(path) or posixpath.basename(path) == "dvc.yaml"


class DvcFileFormat(Rule):
    id = "dvc-file-format"
    summary = "The .dvc files, dvc.lock and dvc.yaml a change brings must be in DVC's format."
    stages = frozenset({Stage.PRE_COMMIT}) | PUSH_STAGES
    events = (CommitAttempt, Push)
    doc = """\
**What**: checks every `.dvc` file, `dvc.lock` and `dvc.yaml` that a commit stages or a push
adds or changes against DVC's format (DVC 3, and DVC 2's lock layout): YAML that parses,
within limits (64 levels deep, no alias expansions); a mapping at the top; `outs` and `deps`
lists of mappings, each with a non-empty `path`; output paths relative and inside the
repository; `md5` 32 lowercase hex digits (`.dir` for a directory); `size` and `nfiles`
whole numbers of 0 or more; in `dvc.lock`, `schema: '2.0'`, a mapping of `stages` with
their `cmd` and `params` as a mapping of params files; in `dvc.yaml`, as far as flowwarden
reads it (stage `wdir`, `outs`, `metrics`, `plots`). The other `dvc-` rules skip a file
this rule refuses.

**Why**: DVC writes these files, and reading the data they name depends on them: a
malformed one makes `dvc pull` and `dvc checkout` fail for everyone, and an output path
outside the repository would send cache lookups, and the data checks, outside too.

**Example**: committing a `.dvc` file edited by hand to `outs: [5]` fails with
`dvc-file-format: data/train.csv.dvc:1: outs[0] is a whole number (5); expected a mapping`.

**Fix**: let DVC write the file again (`dvc add <data>` for a `.dvc` file, `dvc commit` or
`dvc repro` for `dvc.lock`), or restore the last good version:
`git checkout HEAD -- data/train.csv.dvc`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        base: str | None = None
        if isinstance(event, CommitAttempt):
            files = [(f.path, f":{f.path}") for f in event.staged
                     if f.status != "D" and _is_checked(f.path)]
            base = "HEAD" if event.head is not None else None
        elif isinstance(event, Push):
            files = ctx.facts.data.changed_at_tips(event, _is_checked)
            base = _base(event, ctx)
        else:
            return
        if not files:
            return  # most changes: no DVC file, nothing to read
        problems = list(dict.fromkeys(_problems(ctx, files)))
        bad = sorted({p.file for p in problems})
        restorable = {p for p, blob in ctx.facts.data.blobs(
            [f"{base}:{p}" for p in bad] if base else []).items() if blob is not None}
        for problem in problems:
            spec = f"{base}:{problem.file}"
            yield self._violation(problem, base if spec in restorable else None, ctx.stage)

    def _violation(self, problem: Problem, base: str | None, stage: Stage) -> Violation:
        """`base`: a commit that holds a version of the file to restore, if any."""
        where = f"{problem.file}:{problem.line}" if problem.line else problem.file
        name = shell_word(problem.file)
        local = stage is Stage.PRE_COMMIT
        if base is not None:
            fix = f"git checkout {shell_word(base[:12])} -- {name}"
            what = "Restore"
        else:
            fix = f"git rm --cached -- {name}" if local else f"git rm -- {name}"
            what = "Remove"
        if not local:  # the fix is a new commit, pushed again
            fix += f" && git commit -m {shell_word(f'{what} {problem.file}')}"
        details = (_rewrite(problem.file),)
        return self.violation(problem.file, f"{where}: {problem.message}", fix, details,
                              path=problem.file)


def _rewrite(path: str) -> str:
    """How DVC writes `path` again, in words: which data or stage is not known here."""
    if is_lock(path):
        return "or let DVC write it again: dvc repro (or dvc commit) where it lives"
    if posixpath.basename(path) == "dvc.yaml":
        return "or correct it by hand: DVC reads dvc.yaml as you write it"
    return "or let DVC write it again: dvc add <the data it tracks>"


def _problems(ctx: Context, files: Sequence[tuple[str, str]]) -> Iterator[Problem]:
    """What is wrong with each file, given as (path, blob spec: `rev:path` or `:path`); a
    lock is read with the `dvc.yaml` beside it, from the same revision."""
    from flowwarden.adapters.dvc.format import check  # the DVC adapter, on first use

    def pipeline(path: str, spec: str) -> str:
        return spec[:len(spec) - len(path)] + sibling(path, "dvc.yaml")
    blobs = ctx.facts.data.blobs([s for _, s in files] +
                                 [pipeline(p, s) for p, s in files if is_lock(p)])
    for path, spec in files:
        text = blobs.get(spec)
        if text is not None:
            yaml = blobs.get(pipeline(path, spec)) if is_lock(path) else None
            yield from check(path, text, yaml or None).problems


def _base(push: Push, ctx: Context) -> str | None:
    """The one commit the push moves its branch from (full sha: read through the run's one
    `cat-file`), to restore a file from: None when the push creates its branch or moves
    several."""
    olds = {u.old for u in push.updates if not u.is_create and not u.is_delete}
    old = next(iter(olds)) if len(olds) == 1 else None
    return old if old is not None and ctx.repo.has_object(old) else None


RULE = DvcFileFormat()
