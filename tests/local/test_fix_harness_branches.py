"""Every branch, merge and history rule's printed fix, pasted at every stage that refuses:
scenario, refused, paste the fix (tests/fixkit.py), retry the same operation, it passes.
`stage` "pre-push" runs the developer's shims; "pre-receive" runs the server's hook with the
developer's hooks off, as a pusher who skipped them."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from corekit import NO_HOOKS, add_bare_remote, branch_with_commit, merge_quiet, quiet  # noqa: E402

from fixkit import fix_of, paste  # noqa: E402
from fwkit import Repo, Result, make_repo  # noqa: E402

PUSH_STAGES = ("pre-push", "pre-receive")


class Pushing:
    """A developer repository and its origin, judged at `stage`."""

    def __init__(self, tmp_path: Path, env: dict[str, str], stage: str) -> None:
        self.tmp = tmp_path
        self.stage = stage
        self.dev = make_repo(tmp_path / "dev", env)
        self.origin = add_bare_remote(self.dev, tmp_path / "origin.git",
                                      server_hooks=stage == "pre-receive")
        if stage == "pre-push":
            self.dev.install_shims()

    def push(self, *args: str) -> Result:
        return self.dev.git("push", "origin", *args, check=False)

    def other(self) -> Repo:
        """A teammate's clone, hooks off, under the teammate's name."""
        env = {**self.dev.env, "GIT_AUTHOR_NAME": "Bo", "GIT_AUTHOR_EMAIL": "bo@example.com"}
        other = Repo(self.tmp / "other", env)
        Repo(self.tmp, self.dev.env).git("clone", "-q", self.origin.path.as_uri(), "other")
        return other

    def remote_sha(self, branch: str) -> str:
        return self.origin.git("rev-parse", f"refs/heads/{branch}").out.strip()


@pytest.fixture(params=PUSH_STAGES)
def pushing(request: pytest.FixtureRequest, tmp_path: Path, env: dict[str, str]) -> Pushing:
    return Pushing(tmp_path, env, request.param)


def published_merge(p: Pushing, feature: str = "feature/x") -> str:
    """develop holds a merge of `feature`, pushed with the feature; returns its sha."""
    branch_with_commit(p.dev, feature, "develop")
    merge = merge_quiet(p.dev, "develop", feature, f"Merge branch '{feature}' into develop")
    quiet(p.dev, "push", "-q", "--no-verify", "origin", feature, "develop")
    return merge


# --- force-push -------------------------------------------------------------------------


def test_force_push_after_amending_a_published_merge_keeps_it(pushing: Pushing) -> None:
    """The amended merge changed no file: the fix puts develop back, with no pull that would
    merge the rewritten commit back in."""
    merge = published_merge(pushing)
    quiet(pushing.dev, "commit", "--amend", "--no-edit", "--trailer", "Reviewed-by: Bo <b@x>")
    refused = pushing.push("--force", "develop")
    fix = fix_of(refused, "force-push")
    assert "pull" not in fix, fix
    paste(pushing.dev, fix)
    assert pushing.push("--force", "develop").code == 0
    assert pushing.remote_sha("develop") == merge
    assert pushing.dev.git("rev-list", "--count", "develop").out.strip() == "3"


def test_force_push_after_changing_a_published_merge_lands_the_change(pushing: Pushing) -> None:
    """The rewrite changed a file: the published merge stays, the change comes on top through
    a feature branch merged with --no-ff."""
    merge = published_merge(pushing)
    pushing.dev.write("late.py", "late = 1\n")
    quiet(pushing.dev, "add", "late.py")
    quiet(pushing.dev, "commit", "--amend", "--no-edit")
    refused = pushing.push("--force", "develop")
    fix = fix_of(refused, "force-push")
    assert "pull" not in fix, fix
    paste(pushing.dev, fix)
    assert pushing.push("--force", "develop").code == 0
    tip = pushing.remote_sha("develop")
    assert pushing.dev.git("merge-base", "--is-ancestor", merge, tip, check=False).code == 0
    assert pushing.origin.git("cat-file", "-e", f"{tip}:late.py", check=False).code == 0
    assert pushing.dev.git("rev-list", "--count", "develop").out.strip() == "5"


def test_force_push_over_a_teammates_push_integrates_it(pushing: Pushing) -> None:
    """Someone else moved develop: the fix pulls their work in and pushes, keeping both."""
    published_merge(pushing)
    other = pushing.other()
    quiet(other, "switch", "-q", "develop")
    branch_with_commit(other, "feature/z", "develop")
    theirs = merge_quiet(other, "develop", "feature/z", "Merge branch 'feature/z' into develop")
    quiet(other, "push", "-q", "origin", "feature/z", "develop")
    branch_with_commit(pushing.dev, "feature/y", "develop")
    merge_quiet(pushing.dev, "develop", "feature/y", "Merge branch 'feature/y' into develop")
    quiet(pushing.dev, "push", "-q", "origin", "feature/y")
    refused = pushing.push("--force", "develop")
    fix = fix_of(refused, "force-push")
    assert "pull" in fix and "reset" not in fix, fix
    paste(pushing.dev, fix)
    assert pushing.push("--force", "develop").code == 0
    tip = pushing.remote_sha("develop")
    assert pushing.dev.git("merge-base", "--is-ancestor", theirs, tip, check=False).code == 0
    assert pushing.dev.git("merge-base", "--is-ancestor", "feature/y", tip, check=False).code == 0


def _unused() -> tuple[object, ...]:
    return (NO_HOOKS,)
