"""A push of many refs at once: the server's git processes do not grow with its refs, and a
push past the policy's bound is refused with the command that pushes it in batches."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ci.cikit import Server
from fwkit import HOOKS, Repo

from .lawkit import accepted, bounded, push, refused


def traced_hook(server: Server, trace: Path) -> None:
    """The real pre-receive hook, its git processes written to a GIT_TRACE2_EVENT file."""
    hook = server.bare / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nGIT_TRACE2_EVENT='{trace}' exec '{HOOKS / 'pre-receive'}' "
                    '"$@"\n')
    hook.chmod(0o755)


def git_processes(trace: Path) -> int:
    events = (json.loads(line) for line in trace.read_text().splitlines() if line.strip())
    count = sum(e.get("event") == "start" for e in events)
    trace.unlink()
    return count


def commits_on(dev: Repo, names: list[str], parent: str) -> None:
    """One new commit on each of `names` (created or moved), child of `parent` or of the
    branch's own tip."""
    lines = []
    for name in names:
        base = dev.git("rev-parse", "-q", "--verify", f"refs/heads/{name}", check=False).out
        head = base.strip() or parent
        sha = dev.git("commit-tree", f"{head}^{{tree}}", "-p", head, "-m",
                      f"Work on {name}").out.strip()
        lines.append(f"update refs/heads/{name} {sha}\n")
    dev.git("update-ref", "--stdin", stdin="".join(lines))


def fan_out(dev: Repo, tag: str, count: int) -> list[str]:
    """Refspecs for a push of 2 * `count` ref updates: `count` new feature branches, and
    `count // 2` of the existing ones (`feature/old-<tag>-*`) updated, the rest deleted."""
    new = [f"feature/new-{tag}-{i}" for i in range(count)]
    old = [f"feature/old-{tag}-{i}" for i in range(count)]
    commits_on(dev, new, dev.sha("develop"))
    commits_on(dev, old[: count // 2], dev.sha("develop"))
    return new + old[: count // 2] + [f":refs/heads/{n}" for n in old[count // 2:]]


def test_the_server_git_processes_do_not_grow_with_the_refs_of_a_push(
        server: Server, tmp_path: Path) -> None:
    dev = server.dev
    sizes = {"small": 10, "large": 40}
    existing = [f"feature/old-{tag}-{i}" for tag, n in sizes.items() for i in range(n)]
    dev.git("update-ref", "--stdin", stdin="".join(f"create refs/heads/{name} "
                                                   f"{dev.sha('develop')}\n" for name in existing))
    accepted(push(dev, *existing))  # no hook yet: the server already holds these branches
    trace = tmp_path / "trace2.json"
    traced_hook(server, trace)
    counts = {}
    for tag, count in sizes.items():
        accepted(push(dev, *fan_out(dev, tag, count)))
        counts[tag] = git_processes(trace)
    # 20 ref updates, then 80: the same few processes (a history read, a for-each-ref, ...),
    # where asking git per ref took about 7 per ref.
    assert 0 < counts["large"] <= counts["small"] <= 20, counts
    heads = dev.git("ls-remote", "origin", "refs/heads/feature/*").out
    assert "feature/new-large-39" in heads and "feature/old-large-39" not in heads


def test_pushed_annotated_tags_cost_no_git_process_each(server: Server, tmp_path: Path) -> None:
    """Annotated tags pushed in bulk: peeled once with the rest of the push, not asked of git
    one `cat-file -e` or `rev-parse` at a time."""
    dev = server.dev
    trace = tmp_path / "trace2.json"
    traced_hook(server, trace)
    counts = {}
    for tag, count in {"small": 10, "large": 40}.items():
        names = [f"v0.{i}-{tag}" for i in range(count)]
        for name in names:
            dev.git("tag", "-a", "-m", f"Tag {name}", name, dev.sha("main"))
        accepted(push(dev, *(f"refs/tags/{n}" for n in names)))
        counts[tag] = git_processes(trace)
    assert 0 < counts["large"] <= counts["small"] + 2, counts


def test_the_verdicts_of_a_large_push_are_those_of_its_refs_alone(server: Server) -> None:
    dev = server.dev
    server.install_pre_receive()
    refspecs = fan_out(dev, "x", 8)
    dev.git("switch", "-q", "develop")
    dev.commit_file("src/direct.py", "x = 1\n", "A direct commit on develop", "--no-verify")
    result = push(dev, *refspecs, "develop")
    refused(result, "protected-history", "develop")
    findings = [line for line in result.err.splitlines() if line.startswith("remote: error:")]
    assert len(findings) == 1 and "on develop" in findings[0], result.err  # the rest is legal


def capped_server(server: Server, limit: int, head: str = "main") -> Repo:
    """The default branch's policy allows `limit` ref updates per push; the bare
    repository's HEAD names `head`."""
    dev = server.dev
    dev.git("switch", "-q", "main")
    dev.write(".flowwarden.yaml", f"extends: gitflow-ml\nci:\n  max_ref_updates: {limit}\n")
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "Bound the refs of a push", "--no-verify")
    dev.git("push", "-q", "origin", "main")
    server.dev.git("--git-dir", str(server.bare), "symbolic-ref", "HEAD", f"refs/heads/{head}")
    server.install_pre_receive()
    return dev


def test_a_push_of_more_refs_than_the_policy_allows_is_refused_with_a_fix_that_works(
        server: Server) -> None:
    dev = capped_server(server, 5)
    names = [f"feature/topic-{i}" for i in range(6)]
    commits_on(dev, names, dev.sha("develop"))
    result = push(dev, *names)
    refused(result, "6 refs", "at most 5", "max_ref_updates")
    assert "feature/topic-0" not in dev.git("ls-remote", "origin").out
    fix = next(line.split("fix: ", 1)[1] for line in result.err.splitlines() if "fix: " in line)
    pasted = subprocess.run(["sh", "-c", fix.replace("remote: ", "")], cwd=dev.path,
                            env=dev.env, capture_output=True, text=True, timeout=120)
    assert pasted.returncode == 0, pasted.stderr
    heads = dev.git("ls-remote", "origin", "refs/heads/feature/*").out
    assert all(name in heads for name in names), heads


def test_a_push_within_the_bound_is_judged(server: Server) -> None:
    dev = capped_server(server, 5)
    names = [f"feature/topic-{i}" for i in range(5)]
    commits_on(dev, names, dev.sha("develop"))
    accepted(bounded(["git", "push", "origin", *names], dev.path, dev.env))


def test_a_head_naming_no_branch_still_finds_the_teams_policy(server: Server) -> None:
    """`git init --bare` left HEAD at master; the team's production branch is main. Tags and
    the ref bound are judged by main's committed policy, not by the preset."""
    dev = capped_server(server, 3, head="master")
    for i in range(4):
        dev.git("tag", f"v0.{i}", dev.sha("main"))
    result = push(dev, *(f"refs/tags/v0.{i}" for i in range(4)))
    refused(result, "4 refs", "at most 3", "max_ref_updates")
