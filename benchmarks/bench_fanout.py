"""Benchmark a push of many refs at once through the pre-receive hook; prints a table.

A server holds a Git Flow history (develop with 100 merged features) and N feature branches.
One `git push` then creates N new feature branches, updates N/2 of the existing ones and
deletes N/2 of them (2N ref updates in all, N = 750 by default: 1,500 refs), each created
or updated branch one new commit on develop or on its old tip. Printed: the push with the
hook, the same push without it (the peer, measured in the same run), their ratio, and the
git processes the hook started (counted with GIT_TRACE2_EVENT, not timed).

Run: PYTHONPATH=src python benchmarks/bench_fanout.py [N [TRACE2-FILE TO KEEP]]
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from bench_ci import HOOK, build, environment, flowwarden_bin, run


def stream(count: int, develop: str, olds: Mapping[str, str], stamp: int) -> bytes:
    """New feature branches from develop and one more commit on each of `olds`."""
    out = []
    heads = [(f"feature/new-{i:05d}", develop) for i in range(count)] + list(olds.items())
    for mark, (name, parent) in enumerate(heads, 1):
        message = f"Work on {name}".encode()
        out.append(b"\n".join([
            f"commit refs/heads/{name}".encode(), f"mark :{mark}".encode(),
            f"author Ada <ada@example.com> {stamp + mark} +0000".encode(),
            f"committer Ada <ada@example.com> {stamp + mark} +0000".encode(),
            b"data %d" % len(message), message, f"from {parent}".encode(),
            f"M 100644 inline src/{name.replace('/', '_')}.py".encode(),
            b"data 6", b"x = 1\n", b""]))
    return b"\n".join(out) + b"\n"


def prepare(root: Path, env: Mapping[str, str], count: int) -> tuple[Path, Path, list[str]]:
    """A server (bare) with main, develop and `count` feature branches, and a clone that
    holds the 2 * `count` ref updates to push; returns them and the push's refspecs."""
    dev = root / "dev"
    dev.mkdir()
    build(dev, env, features=100, per_feature=3)
    develop = run(["git", "rev-parse", "develop"], dev, env).stdout.decode().strip()
    old = [f"feature/old-{i:05d}" for i in range(count)]
    run(["git", "update-ref", "--stdin"], dev, env,
        "".join(f"create refs/heads/{n} {develop}\n" for n in old).encode())
    base = root / "base.git"
    run(["git", "init", "-q", "--bare", str(base)], root, env)
    run(["git", "push", "-q", str(base), "main", "develop", *old], dev, env)
    updated, deleted = old[: count // 2], old[count // 2:]
    run(["git", "fast-import", "--quiet"], dev, env,
        stream(count, develop, dict.fromkeys(updated, develop), 1_800_000_000))
    refspecs = ([f"feature/new-{i:05d}" for i in range(count)] + updated
                + [f":refs/heads/{n}" for n in deleted])
    return base, dev, refspecs


def push(base: Path, dev: Path, env: Mapping[str, str], refspecs: list[str], root: Path,
         hooked: bool) -> tuple[float, float, int]:
    """Seconds for the push to a fresh copy of `base`, of which in the hook, and the hook's
    git processes."""
    server = Path(tempfile.mkdtemp(dir=root)) / "server.git"
    shutil.copytree(base, server)
    trace = server.parent / "trace2.json"
    if hooked:
        wrapper = server / "hooks" / "pre-receive"
        wrapper.write_text(f"#!/bin/sh\nstart=$(date +%s%N)\n"
                           f"GIT_TRACE2_EVENT={trace} {HOOK} \"$@\"\ncode=$?\n"
                           f"echo $(( $(date +%s%N) - start )) > {trace}.ns\nexit $code\n")
        wrapper.chmod(0o755)
    start = time.perf_counter()
    result = run(["git", "push", "-q", str(server), *refspecs], dev, env, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"push refused:\n{result.stderr.decode()[-3000:]}")
    if hooked and len(sys.argv) > 2:
        shutil.copy(trace, sys.argv[2])
    hook = int((trace.parent / "trace2.json.ns").read_text()) / 1e9 if hooked else 0.0
    return seconds, hook, git_processes(trace)


def git_processes(trace: Path) -> int:
    """How many git processes wrote a `start` event to a GIT_TRACE2_EVENT file."""
    if not trace.exists():
        return 0
    return sum(json.loads(line).get("event") == "start"
               for line in trace.read_text().splitlines() if line.strip())


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 750
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bin").mkdir()
        (root / "home").mkdir()
        flowwarden_bin(root / "bin")
        env = environment(root / "bin", root / "home")
        base, dev, refspecs = prepare(root, env, count)
        run(["git", "config", "receive.advertisePushOptions", "false"], base, env)
        plain, _, _ = push(base, dev, env, refspecs, root, hooked=False)
        hooked, hook, processes = push(base, dev, env, refspecs, root, hooked=True)
        floor = time.perf_counter()
        run(["git", "rev-list", "--all"], dev, env)
        floor = time.perf_counter() - floor
    refs = len(refspecs)
    rows = [(f"git push of {refs} ref updates, pre-receive hook", hooked,
             f"{processes} git processes in the hook"),
            ("  of which in the pre-receive hook", hook, ""),
            ("  same push without the hook (peer)", plain,
             f"hooked / plain: {hooked / plain:.1f}x"),
            ("  git rev-list --all in the pushing clone", floor, "")]
    width = max(len(name) for name, _, _ in rows)
    print(f"{'benchmark':<{width}}  {'seconds':>10}  note")
    for name, seconds, note in rows:
        print(f"{name:<{width}}  {seconds:>8.3f} s  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
