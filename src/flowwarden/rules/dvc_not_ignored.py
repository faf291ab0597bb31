"""dvc-not-ignored: outputs DVC tracks are gitignored, and not tracked by git as well."""
from __future__ import annotations

import posixpath
from collections.abc import Iterator

from flowwarden.adapters.dvc.paths import covered, sibling
from flowwarden.core.records import CommitAttempt, Event, Violation
from flowwarden.core.stages import Stage
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import path_word, shell_word


class DvcNotIgnored(Rule):
    id = "dvc-not-ignored"
    summary = "Outputs DVC tracks must be gitignored and not tracked by git as well."
    stages = frozenset({Stage.PRE_COMMIT})
    events = (CommitAttempt,)
    doc = """\
**What**: for every output of a staged `.dvc` file or `dvc.lock` (outputs declared
`cache: false` excepted), checks that git ignores the path and that the index does not
hold it.

**Why**: an output that is not ignored is one `git add -A` away from being committed to
git next to its `.dvc` file; one that is tracked by both is stored twice and the two copies
drift.

**Example**: `dvc-not-ignored: data/train.csv is an output of data/train.csv.dvc but is not
gitignored; expected an entry /train.csv in data/.gitignore`.

**Fix**: `echo /train.csv >> data/.gitignore && git add data/.gitignore` (this is what
`dvc add` writes); for a tracked copy, `git rm -r --cached data/train.csv`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if not isinstance(event, CommitAttempt):
            return
        data = ctx.facts.data
        outputs = data.staged_outputs(event).outputs
        if not outputs:
            return
        paths = [o.path for o in outputs]
        ignored = data.ignored(paths)
        tracked = covered(data.index_listing(event), paths)
        for out in outputs:
            if out.path in tracked:
                yield self.violation(
                    out.path, f"{out.path} is tracked by git as well as by DVC "
                    f"({out.source}); expected DVC alone to track it",
                    f"git rm -r --cached {path_word(out.path)}", path=out.source)
            if out.path not in ignored:
                entry = "/" + posixpath.basename(out.path)
                gitignore = sibling(out.path, ".gitignore")
                yield self.violation(
                    out.path, f"{out.path} is an output of {out.source} but is not gitignored; "
                    f"expected an entry {entry} in {gitignore}",
                    f"echo {shell_word(entry)} >> {path_word(gitignore)} && "
                    f"git add {path_word(gitignore)}",
                    path=out.source)


RULE = DvcNotIgnored()
