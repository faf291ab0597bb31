"""Benchmark: flowwarden's commit-stage data checks against `dvc status`, in one run.

Builds DVC repositories in a temporary directory: a small one (one 1 KiB file) and a large
one (a 10,000-file directory output and a 200 MB file), stages their `.dvc` files, and times

- the five data rules in-process on that staged commit (what the hook spends on data),
- `flowwarden hook pre-commit` as git runs it (Python start-up, policy, every rule),
- `dvc status`, which DVC's own pre-commit hook runs.

Run: `PYTHONPATH=src python benchmarks/bench_data.py [--runs N]`. Not a test: it prints.
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

SRC = Path(__file__).resolve().parent.parent / "src"
sys.path.insert(0, str(SRC))

from flowwarden.adapters.git import GitRepo  # noqa: E402
from flowwarden.core.records import CommitAttempt  # noqa: E402
from flowwarden.core.stages import Stage  # noqa: E402
from flowwarden.policy.load import load_policy  # noqa: E402
from flowwarden.rules import RULES as ALL_RULES  # noqa: E402
from flowwarden.rules.base import Context  # noqa: E402

RULES = tuple(r for r in ALL_RULES if r.id.startswith("dvc-"))


def run(cmd: list[str], cwd: Path, env: Mapping[str, str]) -> None:
    subprocess.run(cmd, cwd=cwd, env=dict(env), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def build(root: Path, env: Mapping[str, str], files: int, big_bytes: int) -> Path:
    """A git+DVC repository on feature/bench whose `.dvc` files are staged, not committed."""
    root.mkdir(parents=True)
    run(["git", "init", "-q", "-b", "main"], root, env)
    run(["dvc", "init", "-q"], root, env)
    run(["git", "commit", "-qm", "Set up DVC"], root, env)
    run(["git", "switch", "-q", "-c", "feature/bench"], root, env)
    images = root / "data" / "images"
    images.mkdir(parents=True)
    for i in range(files):
        (images / f"{i:05d}.txt").write_text(f"sample {i}\n")
    with open(root / "data" / "big.bin", "wb") as out:
        left = big_bytes
        while left:
            chunk = os.urandom(min(left, 1 << 24))
            out.write(chunk)
            left -= len(chunk)
    run(["dvc", "add", "-q", "data/images", "data/big.bin"], root, env)
    run(["git", "add", "data/images.dvc", "data/big.bin.dvc", "data/.gitignore"], root, env)
    run(["dvc", "status", "-q"], root, env)  # warm DVC's state database, as in daily use
    return root


def time_it(action: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def data_rules(root: Path, env: Mapping[str, str]) -> Callable[[], object]:
    policy = load_policy(root)  # shared by every rule; the hook column includes it

    def check() -> object:
        repo = GitRepo.discover(root, env=env)
        ctx = Context(policy=policy, repo=repo, stage=Stage.PRE_COMMIT, env=env)
        head = repo.head()
        event = CommitAttempt(repo.current_branch(), head, repo.staged_changes(head))
        found = [v for rule in RULES for v in rule.check(event, ctx)]
        assert not found, found
        return found
    return check


def command(cmd: list[str], root: Path, env: Mapping[str, str]) -> Callable[[], object]:
    return lambda: run(cmd, root, env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per cell (median)")
    args = parser.parse_args(argv)
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "Bench",
           "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "Bench",
           "GIT_COMMITTER_EMAIL": "bench@example.com",
           "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    tmp = Path(tempfile.mkdtemp(prefix="fw-bench-data-"))
    env["DVC_SITE_CACHE_DIR"] = str(tmp / "dvc-site")
    # An installed hook runs from cached bytecode; keep that cache in the temp dir.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    try:
        repos = {
            "small: 1 file of 1 KiB": build(tmp / "small", env, 0, 1024),
            "large: 10,000-file dir + 200 MB file": build(tmp / "large", env, 10_000,
                                                          200 * 1000 * 1000),
        }
        rows = [measure(name, root, env, args.runs) for name, root in repos.items()]
        large = repos["large: 10,000-file dir + 200 MB file"]
        run(["git", "commit", "-qm", "Track the data with DVC", "--no-verify"], large, env)
        (large / "train.py").write_text("print('train')\n")
        run(["git", "add", "train.py"], large, env)
        rows.append(measure("large, a commit that touches only code", large, env, args.runs))
        print_table(rows, args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def measure(name: str, root: Path, env: Mapping[str, str],
            runs: int) -> tuple[str, float, float, float]:
    hook = [sys.executable, "-m", "flowwarden", "hook", "pre-commit"]
    return (name, time_it(data_rules(root, env), runs), time_it(command(hook, root, env), runs),
            time_it(command(["dvc", "status", "-q"], root, env), runs))


def print_table(rows: list[tuple[str, float, float, float]], runs: int) -> None:
    print(f"median of {runs} runs; ratio = dvc status / flowwarden\n")
    header = ("repository", "data rules", "hook pre-commit", "dvc status", "ratio (rules)",
              "ratio (hook)")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for name, rules, cli, status in rows:
        print(f"| {name} | {rules * 1000:.1f} ms | {cli * 1000:.0f} ms | "
              f"{status * 1000:.0f} ms | {status / rules:.0f}x | {status / cli:.1f}x |")


if __name__ == "__main__":
    raise SystemExit(main())
