"""ref-object: every pushed ref names a commit, directly or through annotated tags."""
from __future__ import annotations

from collections.abc import Iterator

from flowwarden.core.records import Event, Push, Violation
from flowwarden.core.stages import PUSH_STAGES
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import shell_word


class RefObject(Rule):
    id = "ref-object"
    summary = "Every pushed ref (branch, tag or other) names a commit, not a bare tree or blob."
    stages = PUSH_STAGES
    events = (Push,)
    doc = """\
**What it does.** Refuses a push of any ref (a branch, a tag, `refs/notes/*`, `refs/exps/*`)
whose object, once annotated tags are peeled, is a tree or a blob instead of a commit.

**Why it matters.** Every rule judges commits: what they add, where they come from. A tag
that names a tree or a blob carries files (a 3 MB CSV, say) that no commit brings, so no
rule would ever see them.

**Example.** `git tag data $(git hash-object -w big.csv) && git push origin data`:
`ref-object: refs/tags/data names a blob, not a commit`.

**Fix.** Delete the ref and commit the content instead (versioned with DVC if it is data):
`git tag -d data`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        assert isinstance(event, Push)
        updates = [u for u in event.updates if not u.is_delete]
        types = ctx.repo.peeled_types(u.new for u in updates)
        for update in updates:
            kind = types.get(update.new)
            if kind in (None, "commit"):
                continue
            local = update.local_ref or update.ref
            yield self.violation(
                update.ref, f"{update.ref} names a {kind} ({update.new[:10]}), not a commit: "
                "its files would reach the repository without any rule judging them",
                f"git update-ref -d {shell_word(local)}  # then commit the content instead",
                commits=(update.new,))


RULE = RefObject()
