"""dvc-missing-cache: what staged `.dvc` files and `dvc.lock`s name is in the DVC cache."""
from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING

from flowwarden.adapters.dvc.paths import is_dvc_file
from flowwarden.core.records import CommitAttempt, Event, Violation
from flowwarden.core.stages import Stage
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import in_project, path_word, shell_word

if TYPE_CHECKING:
    from flowwarden.adapters.dvc.files import Output


class DvcMissingCache(Rule):
    id = "dvc-missing-cache"
    summary = "Outputs named by staged .dvc files and dvc.lock must be in the DVC cache."
    stages = frozenset({Stage.PRE_COMMIT})
    events = (CommitAttempt,)
    doc = """\
**What**: for every staged `.dvc` file and `dvc.lock`, checks that the DVC cache holds
each output's object, and for a directory its `.dir` manifest and every file it lists
(`cache.dir` from `.dvc/config` and `.dvc/config.local` is honoured; DVC 3 and DVC 2
cache layouts).

**Why**: a `.dvc` file whose data is in nobody's cache points at nothing: `dvc push`
has nothing to send and teammates' `dvc pull` fails.

**Example**: after `dvc gc` removed an object, committing `data/train.csv.dvc` fails with
`dvc-missing-cache: data/train.csv (md5 1a2b3c4d, named in data/train.csv.dvc) is not in
the DVC cache .dvc/cache`.

**Fix**: `dvc commit -f data/train.csv.dvc` (re-caches the workspace copy; `dvc add` does
too), or for a pipeline output `dvc commit -f <stage>`; if only the remote has it,
`dvc fetch data/train.csv.dvc`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if not isinstance(event, CommitAttempt):
            return
        if not any(f.status != "D" and is_dvc_file(f.path) for f in event.staged):
            return  # most commits: no DVC file staged, nothing to read
        from flowwarden.adapters.dvc.objects import find_missing  # the DVC adapter, on first use

        data = ctx.facts.data
        outputs = data.staged_outputs(event).outputs  # malformed files: dvc-file-format's
        if not outputs:
            return
        by_project: dict[str, list[Output]] = {}
        for out in outputs:
            by_project.setdefault(data.project_of(out.source), []).append(out)
        root = ctx.repo.root
        for project, outs in sorted(by_project.items()):
            store = data.project_cache(project)
            cache = store.root
            shown = cache.relative_to(root) if root is not None and cache.is_relative_to(root) \
                else cache
            # DVC's commands run inside their project, with paths relative to it
            cd = in_project(project)
            for m in find_missing(store, outs):
                source = path_word(_within(project, m.output.source))
                target = shell_word(m.output.stage) if m.output.stage else source
                yield self.violation(
                    m.output.path, m.describe(f"the DVC cache {shown}"),
                    f"{cd}dvc commit -f {target} && git add {source}",
                    (f"if only the DVC remote has the data: {cd}dvc fetch {target}",),
                    path=m.output.source)


def _within(project: str, path: str) -> str:
    return posixpath.relpath(path, project) if project else path

RULE = DvcMissingCache()
