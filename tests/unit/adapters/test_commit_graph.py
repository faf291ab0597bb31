"""The commit graph answers ancestry in memory as git does, over a real generated history."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from flowwarden.adapters.git import GitRepo
from flowwarden.adapters.git.objects import is_partial_clone
from histories import Shape, build


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    built = build(tmp_path_factory.mktemp("graph") / "repo",
                  Shape(features=12, release_every=3, keep_branches=True))
    return GitRepo.discover(built.path)


def shas(repo: GitRepo, *args: str) -> list[str]:
    return repo.git("rev-list", *args).decode().split()


def test_graph_answers_ancestry_and_ranges_as_git_does(history: GitRepo) -> None:
    every = shas(history, "--branches")
    tips = list(history.branch_tips.values())
    pairs = random.Random(3).sample([(a, b) for a in every for b in every], 150)
    pairs += [(a, b) for a in tips for b in tips]
    by_git = {pair: history.is_ancestor(*pair) for pair in pairs}
    bases = {pair: sorted(history.merge_bases(*pair)) for pair in pairs}
    ranges = {pair: [c.sha for c in history.commits([pair[1]], [pair[0]])] for pair in pairs}
    first_parent = {pair: [c.sha for c in history.commits([pair[1]], [pair[0]], True)]
                    for pair in pairs}
    graph = history.load_graph(history.branch_tips.values())
    assert graph.closed and len(graph) == len(every)
    for pair in pairs:
        assert graph.is_ancestor(*pair) is by_git[pair], pair
        assert sorted(graph.merge_bases(*pair) or ()) == bases[pair], pair
        found = graph.difference([pair[1]], [pair[0]])
        assert found is not None
        assert sorted(c.sha for c in found) == sorted(ranges[pair]), pair
        along = graph.difference([pair[1]], [pair[0]], first_parent=True)
        assert along is not None
        assert sorted(c.sha for c in along) == sorted(first_parent[pair]), pair


def test_a_graph_with_a_lower_bound_leaves_what_it_cannot_tell_to_git(history: GitRepo) -> None:
    line = shas(history, "--first-parent", "develop")
    assert len(line) > 12
    graph = history.load_graph(["develop"], [line[8]])
    assert not graph.closed
    assert graph.is_ancestor(line[1], line[0]) is True  # a parent needs no walk
    assert graph.is_ancestor(line[12], line[0]) is None
    assert history.is_ancestor(line[12], line[0]) is True  # asked of git instead
    answered = 0
    for new, old in zip(line[:6], line[1:7], strict=True):  # steps above the bound
        step = graph.difference([new], [old])
        if step is not None:  # unless it reaches below the bound, where it cannot tell
            answered += 1
            assert sorted(c.sha for c in step) == sorted(shas(history, f"{old}..{new}"))
    assert answered
    assert graph.difference(["develop"], []) is None  # it would go below the bound


def test_sizes_in_a_partial_clone_are_unknown_and_nothing_is_fetched(tmp_path: Path) -> None:
    source = build(tmp_path / "source", Shape(features=2)).path
    big = tmp_path / "source" / "big.bin"
    big.write_bytes(random.Random(1).randbytes(300_000))
    origin = GitRepo.discover(source)
    origin.git("add", "big.bin")
    origin.git("-c", "user.name=Ada", "-c", "user.email=ada@example.com",
               "commit", "-qm", "Add a big blob")
    origin.git("config", "uploadpack.allowFilter", "true")
    origin.git("clone", "-q", "--bare", "--filter=blob:none", f"file://{source}",
               str(tmp_path / "partial.git"))
    partial = GitRepo.discover(tmp_path / "partial.git")
    assert is_partial_clone(partial.common_dir)
    head = partial.rev_parse("develop")
    assert head is not None
    [added] = partial.changes([head])[head]
    assert added.path == "big.bin"
    assert added.size == -1  # UNKNOWN_SIZE: asking git would have fetched it
    missing = partial.git("rev-list", "--objects", "--missing=print", "develop").decode()
    assert f"?{added.blob}" in missing.split()
    assert GitRepo.discover(source).changes([head])[head][0].size == 300_000
