"""Every object reachable from a pushed ref is judged, whatever the ref and the object; what
a pull request brings is judged against what its target holds."""
from __future__ import annotations

from pathlib import Path

import pytest

from ci.cikit import Server, github_pull_request
from fwkit import Repo

from .lawkit import accepted, push, refused


def csv_blob(dev: Repo) -> tuple[str, str]:
    """(blob, tree) of a data file, written to the object store but never committed."""
    dev.write("data/big.csv", "a,b\n" + "1,2\n" * 1000)
    blob = dev.git("hash-object", "-w", "data/big.csv").out.strip()
    dev.git("add", "data/big.csv")
    tree = dev.git("write-tree").out.strip()
    dev.git("reset", "-q")
    return blob, tree


@pytest.mark.parametrize("ref, what", [
    ("refs/tags/blob", "blob"), ("refs/tags/tree", "tree"), ("refs/exps/tree", "tree"),
    ("refs/notes/blob", "blob"), ("refs/tags/annotated-tree", "annotated tree"),
])
def test_a_ref_naming_a_tree_or_blob_is_refused(guarded: Server, ref: str, what: str) -> None:
    dev = guarded.dev
    blob, tree = csv_blob(dev)
    target = blob if "blob" in what else tree
    if what.startswith("annotated"):
        dev.git("tag", "-a", "-m", "Data", ref.rsplit("/", 1)[1], target)
    else:
        dev.git("update-ref", ref, target)
    refused(push(dev, ref), "ref-object", ref)


def test_commits_under_any_ref_are_judged(guarded: Server) -> None:
    dev = guarded.dev
    dev.git("switch", "-q", "-c", "tmp", "develop")
    csv_blob(dev)
    dev.git("add", "data/big.csv")
    dev.git("commit", "-qm", "Data", "--no-verify")
    dev.git("tag", "-a", "-m", "Run 1", "run-1")
    dev.git("update-ref", "refs/exps/e1", "HEAD")
    refused(push(dev, "refs/exps/e1"), "dvc-untracked-data")
    refused(push(dev, "refs/tags/run-1"), "dvc-untracked-data")
    dev.git("tag", "v-ok", "develop")
    accepted(push(dev, "refs/tags/v-ok"))


def test_a_pull_request_is_judged_against_its_target_not_other_fetched_branches(
        server: Server, tmp_path: Path) -> None:
    """feature/y reached the server unjudged (before CI ran on it); feature/x merges it. The
    pull request of feature/x into develop still judges feature/y's commits."""
    dev = server.dev
    dev.git("switch", "-q", "-c", "feature/y", "develop")
    csv_blob(dev)
    dev.git("add", "data/big.csv")
    dev.git("commit", "-qm", "Data", "--no-verify")
    dev.git("push", "-q", "origin", "feature/y")
    dev.git("switch", "-q", "-c", "feature/x", "develop")
    dev.git("merge", "-q", "--no-ff", "--no-verify", "-m", "Merge branch 'feature/y'",
            "feature/y")
    dev.git("push", "-q", "origin", "feature/x")
    clone = server.clone(tmp_path / "ci")
    env = github_pull_request(clone.env, tmp_path, "feature/x", "develop",
                              dev.sha("feature/x"), dev.sha("develop"))
    result = clone.fw("ci", "--format", "text", env=env)
    assert result.code == 1, result.text
    assert "dvc-untracked-data" in result.out and "big.csv" in result.out, result.text
