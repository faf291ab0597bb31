"""dvc-stale-pipeline: a staged change to a pipeline's dependencies comes with its new lock."""
from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from flowwarden.adapters.dvc.paths import sibling
from flowwarden.adapters.git.plumbing import GITLINK, SYMLINK
from flowwarden.core.records import CommitAttempt, Event, Severity, StagedFile, Violation
from flowwarden.core.stages import Stage
from flowwarden.facts.data import DataFacts
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import in_project, path_word, shell_word

if TYPE_CHECKING:
    from flowwarden.adapters.dvc.files import Dependency, LockParams

Contents = Mapping[str, "bytes | None"]  # staged blob sha -> content


class DvcStalePipeline(Rule):
    id = "dvc-stale-pipeline"
    summary = "Staged changes to a pipeline's dependencies need dvc repro to update dvc.lock."
    stages = frozenset({Stage.PRE_COMMIT})
    events = (CommitAttempt,)
    default_severity = Severity.WARNING
    doc = """\
**What**: warns when a staged change touches a git-tracked dependency (a file, a file in a
dependency directory, or a parameter) of a `dvc.yaml` stage while the staged `dvc.lock`
still records the old content.

**Why**: the committed outputs then no longer follow from the committed code and
parameters: the commit claims a result it did not produce.

**Example**: editing `train.py` and committing without re-running warns
`dvc-stale-pipeline: stage train: train.py changed (dvc.lock records md5 92fef88b);
expected dvc.lock to match the staged dependencies`.

**Fix**: `dvc repro train && git add dvc.lock` (and commit the outputs with it).
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if not isinstance(event, CommitAttempt):
            return
        staged = {f.path: f for f in event.staged if f.mode not in (SYMLINK, GITLINK)}
        data = ctx.facts.data
        if not staged or not (data.dvc_ready or _in_a_project(data, staged)):
            return  # without `.dvc/` there is no pipeline whose lock could go stale
        locks = data.staged_locks(event)
        deps = [d for lock in locks for d in lock.deps if d.md5]
        params = [p for lock in locks for p in lock.params if p.file in staged]
        contents = _staged_contents(data, staged, deps, params)
        changed: dict[tuple[str, str], list[str]] = {}
        for dep in deps:
            for note in _dep_changes(data, dep, staged, contents):
                changed.setdefault((dep.lock, dep.stage), []).append(note)
        for entry in params:
            for note in _param_changes(entry, staged[entry.file], contents):
                changed.setdefault((entry.lock, entry.stage), []).append(note)
        for (lock, stage), notes in changed.items():
            # DVC runs inside the lock's project (`dvc init --subdir`), paths relative to it
            project = data.project_of(lock)
            cd = in_project(project)
            within = posixpath.relpath(lock, project) if project else lock
            target = stage if posixpath.dirname(within) == "" else \
                f"{sibling(within, 'dvc.yaml')}:{stage}"
            yield self.violation(
                f"{stage} ({lock})",
                f"stage {stage}: {'; '.join(notes)}; expected {lock} to match the staged "
                "dependencies",
                f"{cd}dvc repro {shell_word(target)} && git add {path_word(within)}",
                path=lock)


def _in_a_project(data: DataFacts, staged: Mapping[str, StagedFile]) -> bool:
    """A staged file lies in a DVC project below the root (`dvc init --subdir`)."""
    dirs = {posixpath.dirname(p) for p in staged}
    return any(data.project_of(posixpath.join(d, "x")) for d in dirs if d)


def _staged_contents(data: DataFacts, staged: Mapping[str, StagedFile],
                     deps: Sequence[Dependency], params: Sequence[LockParams]) -> Contents:
    """Staged blobs of the dependencies and params files in the change: one git call."""
    files = {d.path for d in deps} | {p.file for p in params}
    dirs = tuple(d.path + "/" for d in deps if d.md5 and d.md5.endswith(".dir"))
    wanted = [f.blob for path, f in staged.items() if f.status != "D"
              and (path in files or path.startswith(dirs))]
    return data.blobs(wanted) if wanted else {}


def _dep_changes(data: DataFacts, dep: Dependency, staged: Mapping[str, StagedFile],
                 contents: Contents) -> Iterator[str]:
    if dep.md5 is None:
        return
    if not dep.md5.endswith(".dir"):
        f = staged.get(dep.path)
        if f is not None and _differs(f, dep.md5, dep.legacy, contents):
            yield f"{dep.path} changed ({dep.lock} records md5 {dep.md5[:8]})"
        return
    inside = [f for p, f in staged.items() if p.startswith(dep.path + "/")]
    if not inside:
        return
    manifest = data.project_cache(data.project_of(dep.lock)).manifest(dep.md5)
    recorded = dict(manifest or ())
    for f in inside:
        rel = f.path[len(dep.path) + 1:]
        if manifest is None or rel not in recorded or \
                _differs(f, recorded[rel], dep.legacy, contents):
            yield f"{f.path} in dependency {dep.path}/ changed"


def _differs(f: StagedFile, md5: str, legacy: bool, contents: Contents) -> bool:
    from flowwarden.adapters.dvc.files import md5_of_blob  # loaded by staged_locks already

    blob = contents.get(f.blob) if f.status != "D" else None
    return blob is None or md5_of_blob(blob, legacy) != md5


def _param_changes(params: LockParams, f: StagedFile, contents: Contents) -> Iterator[str]:
    from flowwarden.adapters.dvc.files import UnreadableFile, load_yaml, param_value

    blob = contents.get(f.blob) if f.status != "D" else None
    try:
        doc = load_yaml(blob) if blob else None
    except UnreadableFile as error:
        yield f"{params.file} is not readable YAML ({error})"
        return
    for key, old in params.values.items():
        found, new = param_value(doc, key)
        if not found or new != old:
            now = repr(new) if found else "removed"
            yield f"{params.file}:{key} is {now} ({params.lock} records {old!r})"


RULE = DvcStalePipeline()
