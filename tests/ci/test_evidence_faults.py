"""Evidence faults found by auditing real Git Flow histories: a merge whose subject names the
branch itself (gitflow-avh 3fbc89c), a subject naming a branch of no kind, and the back-merge
of a release that must not turn on whether the push carries the tag."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fwkit import Repo, Result, run

from .cikit import Server


@pytest.fixture
def guarded(server: Server) -> Server:
    server.install_pre_receive()
    return server


def push(repo: Repo, *args: str) -> Result:
    return repo.git("push", "origin", *args, check=False)


def spoof_self_merge(dev: Repo, subject: str) -> str:
    """A direct commit never pushed anywhere, merged into main under a `git pull` subject."""
    dev.git("switch", "-q", "--detach", "main")
    dev.commit_file("backdoor.py", "x = 1\n", "Direct change", "--no-verify")
    side = dev.sha("HEAD")
    dev.git("switch", "-q", "main")
    dev.git("merge", "-q", "--no-ff", side, "-m", subject, "--no-verify")
    return side


@pytest.mark.parametrize("subject", ["Merge branch 'main' of github.com:x/y",
                                     "Merge branch 'main'", "Merge branch 'master'"])
def test_a_merge_naming_the_branch_itself_is_refused_at_pre_receive(
        guarded: Server, subject: str) -> None:
    dev = guarded.dev
    side = spoof_self_merge(dev, subject)
    result = push(dev, "main")
    assert result.code != 0, result.text
    assert "protected-history" in result.err and "itself" in result.err, result.err
    assert side[:10] in result.err and "unreviewed" in result.err
    # The fix works: the commits go through a hotfix branch, merged with --no-ff.
    fix = next(line.split("fix: ", 1)[1] for line in result.err.splitlines() if "fix: " in line)
    assert run(["sh", "-c", fix.split("#", 1)[0]], dev.path, dev.env).code == 0
    carrier = f"hotfix/from-main-{side[:7]}"
    assert push(dev, carrier).code == 0
    dev.git("merge", "-q", "--no-ff", carrier, "-m", f"Merge branch '{carrier}'")
    again = push(dev, "main")
    assert again.code == 0, again.text


def test_a_merge_naming_the_branch_itself_fails_a_pushed_range_in_ci(
        server: Server, tmp_path: Path) -> None:
    dev = server.dev
    before = dev.sha("main")
    spoof_self_merge(dev, "Merge branch 'main' of github.com:x/y")
    dev.git("push", "-q", "origin", "main")
    clone = server.clone(tmp_path / "ci")
    result = clone.fw("ci", "--range", f"{before}..{dev.sha('main')}", "--ref", "main")
    assert result.code == 1, result.text
    assert "protected-history" in result.out and "itself" in result.out


def released(dev: Repo, version: str = "1.2.0") -> None:
    """feature/x into develop and release/<version> cut from it, all pushed."""
    dev.git("switch", "-q", "-c", "feature/x", "develop")
    dev.commit_file("src/x.py", "x = 1\n", "Add x")
    assert push(dev, "feature/x").code == 0
    dev.git("switch", "-q", "develop")
    dev.git("merge", "-q", "--no-ff", "feature/x", "-m", "Merge branch 'feature/x' into develop")
    assert push(dev, "develop").code == 0
    dev.git("switch", "-q", "-c", f"release/{version}", "develop")
    dev.commit_file("VERSION", f"{version}\n", f"Bump version to {version}")
    assert push(dev, f"release/{version}").code == 0


@pytest.mark.parametrize("name", ["main", "master"])
def test_a_pull_of_the_branch_itself_passes(guarded: Server, name: str) -> None:
    dev = guarded.dev
    old = dev.sha("main")
    released(dev)
    dev.git("switch", "-q", "main")
    dev.git("merge", "-q", "--no-ff", "release/1.2.0", "-m", "Merge branch 'release/1.2.0'")
    assert push(dev, "main").code == 0
    dev.git("branch", "-f", "local", old)  # a clone that had not fetched the release yet
    dev.git("switch", "-q", "-c", "hotfix/1", old)
    dev.commit_file("fix.py", "fix = 1\n", "Fix it")
    assert push(dev, "hotfix/1").code == 0
    dev.git("switch", "-q", "local")
    dev.git("merge", "-q", "--no-ff", "hotfix/1", "-m", "Merge branch 'hotfix/1'")
    dev.git("merge", "-q", "--no-ff", "origin/main", "-m",
            f"Merge branch '{name}' of github.com:x/y", "--no-verify")
    result = push(dev, "local:main")
    assert result.code == 0, result.text


def test_the_back_merge_of_a_release_tag_passes_with_or_without_the_tag(
        guarded: Server) -> None:
    dev = guarded.dev
    released(dev)
    dev.git("switch", "-q", "main")
    dev.git("merge", "-q", "--no-ff", "release/1.2.0", "-m", "Merge branch 'release/1.2.0'")
    dev.git("tag", "-a", "1.2.0", "-m", "Release 1.2.0")
    dev.git("switch", "-q", "develop")
    dev.git("merge", "-q", "--no-ff", "1.2.0", "-m", "Merge tag '1.2.0' into develop")
    result = push(dev, "main", "develop", ":release/1.2.0")  # `git push` without --tags
    assert result.code == 0, result.text


def no_kind_merge(repo: Repo, name: str, target: str) -> None:
    repo.git("switch", "-q", "-c", name, "develop")
    repo.commit_file(f"{name}.py", "x = 1\n", f"Work on {name}")
    repo.git("switch", "-q", target)
    repo.git("merge", "-q", "--no-ff", name, "-m", f"Merge branch '{name}'", "--no-verify")
    repo.git("branch", "-q", "-D", name)


@pytest.mark.parametrize(("name", "target"), [("release-0.1", "main"),
                                              ("cleanup", "develop")])
def test_an_audit_refuses_a_subject_naming_a_branch_of_no_kind(
        repo: Repo, name: str, target: str) -> None:
    no_kind_merge(repo, name, target)
    result = repo.fw("audit", "--format", "json")
    assert result.code == 1, result.text
    messages = [v["message"] for v in json.loads(result.out)["violations"]]
    assert any(f"merges {name} (no kind)" in m for m in messages), messages


def test_ci_reads_the_tag_and_the_branches_from_one_view(server: Server, tmp_path: Path) -> None:
    """A clone whose main is ahead of its origin/main: the tag's merge is on main as the
    branch evidence reads it, so the back-merge is judged by that same main."""
    dev = server.dev
    released(dev)
    old_main, before = dev.sha("main"), dev.sha("develop")
    dev.git("switch", "-q", "main")
    dev.git("merge", "-q", "--no-ff", "release/1.2.0", "-m", "Merge branch 'release/1.2.0'")
    dev.git("tag", "-a", "1.2.0", "-m", "Release 1.2.0")
    dev.git("switch", "-q", "develop")
    dev.git("merge", "-q", "--no-ff", "1.2.0", "-m", "Merge tag '1.2.0' into develop")
    dev.git("push", "-q", "--follow-tags", "origin", "main", "develop")
    clone = server.clone(tmp_path / "ci")
    clone.git("update-ref", "refs/heads/main", dev.sha("main"))
    clone.git("update-ref", "refs/remotes/origin/main", old_main)
    result = clone.fw("ci", "--range", f"{before}..{dev.sha('develop')}", "--ref", "develop")
    assert result.code == 0, result.text


@pytest.mark.parametrize("subject", ["Merge branch 'master' of github.com:x/y",
                                     "Merge branch 'main' of github.com:x/y"])
def test_an_audit_refuses_a_pull_of_commits_never_on_main(repo: Repo, subject: str) -> None:
    """gitflow-avh 3fbc89c and kedro's merges: either production name is the same case."""
    side = spoof_self_merge(repo, subject)
    result = repo.fw("audit", "--format", "json")
    assert result.code == 1, result.text
    messages = [v["message"] for v in json.loads(result.out)["violations"]]
    assert any("main itself" in m and side[:10] in m for m in messages), messages
