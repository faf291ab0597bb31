"""Benchmark reading history once; prints a table, not a test.

  * `flowwarden audit` of a generated history of 24,000 commits with 2,000 first-parent
    merges (merge commits with git's and GitHub's subjects, squash merges, tag back-merges):
    wall time (target <= 5 s), git processes (target <= 20) and peak RSS (target <= 200 MB),
    against `git log` of the same history in the same run (the floor: reading the commits).
  * a push of 1,000 commits to a bare repository with flowwarden's pre-receive hook: the
    hook's overhead over the same push without it (target <= 0.5 s), and its git processes.

Histories come from tests/histories.py (one `git fast-import`). Run:
    python benchmarks/bench_history.py [--src DIR]
DIR is the flowwarden source to measure (default: this checkout's src), so one run of this
file can measure an older checkout for a before/after figure.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests"))

from histories import Shape, build  # noqa: E402

HOOK = PROJECT / "hooks" / "pre-receive"
#: 2,000 features of 11 commits, one in eight squash-merged, a release every 20 features
#: (merged into main, tagged, the tag merged back), a hotfix every third release, and a
#: small CSV test fixture in every tenth feature.
AUDITED = Shape(features=2000, commits_per_feature=11, release_every=20, squash_every=8,
                fixture_every=10)
PUSHED = 1000


class Run:
    """One command: its wall time, the git processes it started, its peak RSS."""

    def __init__(self, cmd: list[str], cwd: Path, env: Mapping[str, str], count: Path,
                 timeout: float) -> None:
        count.write_text("")
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=dict(env), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = start + timeout
        pid, status, usage = 0, 0, None
        while not pid and time.perf_counter() < deadline:
            time.sleep(0.01)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if not pid:
            proc.kill()
            proc.wait()
        self.seconds = time.perf_counter() - start
        self.finished = bool(pid)
        self.code = os.waitstatus_to_exitcode(status) if pid else None
        self.rss_mb = usage.ru_maxrss / 1024 if pid and usage else 0.0  # the largest
        self.processes = len(count.read_text().splitlines())


def environment(root: Path, src: Path) -> tuple[dict[str, str], Path]:
    """A clean environment whose `git` is a shim counting its calls, `flowwarden` is `src`."""
    bin_dir, home, count = root / "bin", root / "home", root / "git-calls"
    bin_dir.mkdir()
    home.mkdir()
    real = shutil.which("git") or "/usr/bin/git"
    (bin_dir / "git").write_text(f'#!/bin/sh\necho x >> "{count}"\nexec "{real}" "$@"\n')
    (bin_dir / "flowwarden").write_text(
        f'#!/bin/sh\nPATH="{bin_dir}:$PATH" PYTHONPATH="{src}" exec "{sys.executable}" '
        '-m flowwarden "$@"\n')
    for shim in bin_dir.iterdir():
        shim.chmod(0o755)
    # Servers and CI keep Python's bytecode caches: without them each run compiles every module.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "FLOWWARDEN_", "GITHUB_", "CI", "PYTHONDONTWRITE"))}
    env.update({"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "NO_COLOR": "1",
                "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", "PYTHONPATH": str(src),
                "FLOWWARDEN": str(bin_dir / "flowwarden"),
                "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
                "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"})
    return env, count


def git(cwd: Path, env: Mapping[str, str], *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=dict(env), check=True,
                          capture_output=True, text=True).stdout.strip()


def bench_audit(root: Path, env: Mapping[str, str], count: Path,
                timeout: float) -> list[tuple[str, str, str]]:
    built = build(root / "audited", AUDITED, env)
    repo = built.path
    command = [sys.executable, "-m", "flowwarden", "audit", "--format", "json"]
    audit = Run(command, repo, env, count, timeout)
    if audit.finished:  # the first run wrote the bytecode caches: measure the second
        audit = Run(command, repo, env, count, timeout)
    floor = Run(["git", "log", "--format=%H %P%n%B", "main", "develop"], repo, env, count,
                timeout)
    what = (f"flowwarden audit, {built.commits:,} commits, {built.first_parent_merges:,} "
            f"first-parent merges, {built.squashes} squashes")
    if not audit.finished:
        return [(what, f"> {timeout:.0f} s", f"did not finish; {audit.processes:,} git "
                 "processes by then")]
    return [(what, f"{audit.seconds:.2f} s", "target <= 5 s"),
            ("  git processes", f"{audit.processes}", "target <= 20"),
            ("  peak RSS (largest process)", f"{audit.rss_mb:.0f} MB", "target <= 200 MB"),
            ("  git log of the same history (floor)", f"{floor.seconds:.2f} s",
             f"audit = {audit.seconds / floor.seconds:.1f}x the floor")]


def bench_pre_receive(root: Path, env: Mapping[str, str], count: Path,
                      timeout: float) -> list[tuple[str, str, str]]:
    dev = build(root / "dev", Shape(features=200, commits_per_feature=9), env).path
    line = git(dev, env, "rev-list", "--first-parent", "develop").split()
    old = next(sha for sha in line
               if int(git(dev, env, "rev-list", "--count", f"{sha}..develop")) >= PUSHED)
    pushed = git(dev, env, "rev-list", "--count", f"{old}..develop")
    base = root / "base.git"
    git(root, env, "init", "-q", "--bare", str(base))
    # The server has develop up to `old` and main at its first commit: all pushed commits
    # are new to it, as on a server that has not seen this work yet.
    first = git(dev, env, "rev-list", "--max-parents=0", "main")
    git(dev, env, "push", "-q", str(base), f"{first}:refs/heads/main",
        f"{old}:refs/heads/develop")
    # A server validates its policy once and caches it: warm the cache, as bench_ci does.
    subprocess.run([sys.executable, "-c", "from flowwarden.adapters.git import GitRepo; "
                    "from flowwarden.policy.load import load_policy_at; "
                    f"load_policy_at(GitRepo.discover({str(base)!r}), 'HEAD')"],
                   cwd=root, env=dict(env), check=True)

    def push(hooked: bool) -> Callable[[], Run]:
        def action() -> Run:
            server = Path(tempfile.mkdtemp(dir=root)) / "server.git"
            shutil.copytree(base, server)
            if hooked:
                shutil.copy(HOOK, server / "hooks" / "pre-receive")
            return Run(["git", "push", "-q", str(server), "develop"], dev, env, count, timeout)
        return action

    plain = [push(False)() for _ in range(3)]
    hooked = [push(True)() for _ in range(3)]
    median_plain = statistics.median(r.seconds for r in plain)
    median_hooked = statistics.median(r.seconds for r in hooked)
    verdict = "accepted" if hooked[0].code == 0 else "refused"
    return [(f"git push of {pushed} commits, pre-receive hook ({verdict})",
             f"{median_hooked:.2f} s", ""),
            ("  same push without the hook", f"{median_plain:.2f} s", ""),
            ("  hook overhead", f"{median_hooked - median_plain:.2f} s", "target <= 0.5 s"),
            ("  git processes, hook", f"{hooked[0].processes - plain[0].processes}", "")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=PROJECT / "src",
                        help="the flowwarden source to measure")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env, count = environment(root, args.src.resolve())
        rows = (bench_audit(root, env, count, args.timeout)
                + bench_pre_receive(root, env, count, args.timeout))
    width = max(len(name) for name, _, _ in rows)
    print(f"{'benchmark':<{width}}  {'figure':>10}  note")
    for name, figure, note in rows:
        print(f"{name:<{width}}  {figure:>10}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
