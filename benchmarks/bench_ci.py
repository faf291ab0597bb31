"""Benchmark flowwarden's enforcement beyond the laptop; prints a table, not a test.

  * `flowwarden ci --range` over 10,000 commits with 100 merges (target <= 1 s), against
    `git log` of the same range (the floor: reading the commits at all) and gitlint, a peer
    that also judges every commit of a CI range (timed on 100 commits, scaled).
  * `flowwarden audit` of the same history (no target: adopting flowwarden is a one-off).
  * a push of 1,000 commits to a bare repository with flowwarden's pre-receive hook
    (target: <= 0.5 s over the same push without it).

Repositories are built with `git fast-import`. Run: PYTHONPATH=src python benchmarks/bench_ci.py
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SRC = PROJECT / "src"
HOOK = PROJECT / "hooks" / "pre-receive"
ROUNDS = 5


def environment(bin_dir: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "FLOWWARDEN_", "GITHUB_", "CI"))}
    env.update({"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "NO_COLOR": "1",
                "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
                "PYTHONPATH": str(SRC),
                "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
                "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"})
    return env


def flowwarden_bin(bin_dir: Path) -> None:
    script = bin_dir / "flowwarden"
    script.write_text(f'#!/bin/sh\nPYTHONPATH="{SRC}" exec "{sys.executable}" -m flowwarden "$@"\n')
    script.chmod(0o755)


def run(cmd: list[str], cwd: Path, env: Mapping[str, str], stdin: bytes | None = None,
        check: bool = True) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run(cmd, cwd=cwd, env=dict(env), input=stdin, capture_output=True)
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                         f"{proc.stderr.decode()}{proc.stdout.decode()}")
    return proc


def stream(features: int, commits_per_feature: int) -> Iterator[bytes]:
    """A fast-import stream: main's first commit, develop from it, then `features` feature
    branches of `commits_per_feature` commits, each merged into develop with --no-ff."""
    clock = 1_700_000_000

    def commit(ref: str, mark: int, message: str, parent: int | None, merge: int | None,
               path: str, content: str) -> bytes:
        nonlocal clock
        clock += 60
        data = message.encode()
        blob = content.encode()
        lines = [f"commit {ref}", f"mark :{mark}",
                 f"author Ada <ada@example.com> {clock} +0000",
                 f"committer Ada <ada@example.com> {clock} +0000", f"data {len(data)}"]
        head = "\n".join(lines).encode() + b"\n" + data + b"\n"
        if parent is not None:
            head += f"from :{parent}\n".encode()
        if merge is not None:
            head += f"merge :{merge}\n".encode()
        return head + f"M 100644 inline {path}\ndata {len(blob)}\n".encode() + blob + b"\n\n"

    yield commit("refs/heads/main", 1, "Initial commit", None, None, "README.md", "# model\n")
    yield b"reset refs/heads/develop\nfrom :1\n\n"
    mark, develop = 1, 1
    for f in range(features):
        name = f"feature/f{f:03d}"
        tip = develop
        for c in range(commits_per_feature):
            mark += 1
            yield commit(f"refs/heads/{name}", mark, f"Step {c} of {name}", tip, None,
                         f"src/f{f:03d}.py", f"x = {c}\n")
            tip = mark
        mark += 1
        yield commit("refs/heads/develop", mark, f"Merge branch '{name}' into develop",
                     develop, tip, f"src/f{f:03d}.py", f"x = {commits_per_feature}\n")
        develop = mark


def build(path: Path, env: Mapping[str, str], features: int, per_feature: int) -> None:
    run(["git", "init", "-q", "-b", "main", str(path)], path.parent, env)
    run(["git", "fast-import", "--quiet"], path, env, b"".join(stream(features, per_feature)))
    run(["git", "reset", "-q", "--hard", "main"], path, env)


def timed(action: Callable[[], object], rounds: int = ROUNDS) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bench_ci(root: Path, env: Mapping[str, str]) -> list[tuple[str, float, str]]:
    repo = root / "ci"
    repo.mkdir()
    build(repo, env, features=100, per_feature=99)
    roots = run(["git", "rev-list", "--max-parents=0", "develop"], repo, env).stdout
    first = roots.decode().strip()
    count = run(["git", "rev-list", "--count", f"{first}..develop"], repo, env).stdout.decode()
    assert count.strip() == "10000", count
    fw = [sys.executable, "-m", "flowwarden", "ci", "--range", f"{first}..develop",
          "--ref", "develop"]
    result = run(fw, repo, env, check=False)
    if result.returncode != 0:  # the history is a legal flow: anything else is a defect
        raise SystemExit(result.stderr.decode() + result.stdout.decode())
    ours = timed(lambda: run(fw, repo, env, check=False))
    floor = timed(lambda: run(["git", "log", "--format=%H %P%n%B", f"{first}..develop"],
                              repo, env))
    rows = [("flowwarden ci, 10,000 commits / 100 merges", ours, "target <= 1 s"),
            ("  git log of the same range (floor)", floor,
             f"{floor / ours:.2f}x flowwarden ci")]
    if shutil.which("gitlint"):
        tail = run(["git", "rev-parse", "develop~1"], repo, env).stdout.decode().strip()
        sub = run(["git", "rev-list", "--count", f"{tail}..develop"], repo, env).stdout
        n = int(sub)
        seconds = timed(lambda: run(["gitlint", "--commits", f"{tail}..develop"], repo, env,
                                    check=False), rounds=1)
        scaled = seconds * 10_000 / n
        rows.append((f"  gitlint --commits ({n} commits, scaled to 10,000)", scaled,
                     f"peer: {scaled / ours:.0f}x flowwarden ci"))
    audit = [sys.executable, "-m", "flowwarden", "audit"]
    rows.append(("flowwarden audit of main and develop (10,001 commits)",
                 timed(lambda: run(audit, repo, env)), "not a target"))
    return rows


def bench_pre_receive(root: Path, env: Mapping[str, str]) -> list[tuple[str, float, str]]:
    dev = root / "dev"
    dev.mkdir()
    build(dev, env, features=10, per_feature=99)
    base = root / "base.git"
    run(["git", "init", "-q", "--bare", str(base)], root, env)
    run(["git", "push", "-q", str(base), "main", "main:refs/heads/develop"], dev, env)
    cold = timed(push_to(base, dev, env, root, hooked=True), rounds=3)
    # A server validates its policy once and caches it under the git dir; warm that cache in
    # the template so each round measures the steady state.
    run([sys.executable, "-c", "from flowwarden.adapters.git import GitRepo; "
         "from flowwarden.policy.load import load_policy_at; "
         f"load_policy_at(GitRepo.discover({str(base)!r}), 'HEAD')"], root, env)
    pushed = run(["git", "rev-list", "--count", "main..develop"], dev, env).stdout.decode()

    # The copy is part of both timings; the difference is the hook.
    plain = timed(push_to(base, dev, env, root, hooked=False))
    hooked = timed(push_to(base, dev, env, root, hooked=True))
    return [(f"git push of {pushed.strip()} commits, pre-receive hook", hooked, ""),
            ("  same push without the hook", plain, ""),
            ("  hook overhead", hooked - plain, "target <= 0.5 s"),
            ("  hook overhead, policy not yet cached (first push)", cold - plain, "")]


def push_to(base: Path, dev: Path, env: Mapping[str, str], root: Path,
            hooked: bool) -> Callable[[], object]:
    """Push develop to a fresh copy of `base`, with or without the pre-receive hook."""
    def action() -> None:
        server = Path(tempfile.mkdtemp(dir=root)) / "server.git"
        shutil.copytree(base, server)
        if hooked:
            shutil.copy(HOOK, server / "hooks" / "pre-receive")
        result = run(["git", "push", "-q", str(server), "develop"], dev, env, check=False)
        if result.returncode != 0:
            raise SystemExit(f"push refused:\n{result.stderr.decode()}")
    return action


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bin").mkdir()
        (root / "home").mkdir()
        flowwarden_bin(root / "bin")
        env = environment(root / "bin", root / "home")
        rows = bench_ci(root, env) + bench_pre_receive(root, env)
    width = max(len(name) for name, _, _ in rows)
    print(f"{'benchmark':<{width}}  {'median':>10}  note")
    for name, seconds, note in rows:
        print(f"{name:<{width}}  {seconds:>8.3f} s  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
