"""Benchmark of flowwarden's core hooks against the tools people already run, in one run.

Builds 1k- and 100k-file repositories (git fast-import) with 5 staged files and a
10,000-commit push, then prints medians and ratios:

    python benchmarks/bench_core.py [--repeat 15] [--keep DIR]

Every tool runs as a fresh process with this Python, as a git hook would run it; the peers are
pre-commit-hooks' `no-commit-to-branch` and `check-added-large-files`, and `gitlint`.
Not a test: it reports against the issue's targets and never fails on them.
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SRC = PROJECT / "src"  # --src measures another checkout (an earlier commit) the same way
BIN = Path(sys.executable).parent  # console scripts of this Python, not pyenv's shell shims
TIME = "/usr/bin/time"
ZERO = "0" * 40
STAMP = "Ada <ada@example.com> 1700000000 +0000"


def clean_env(home: Path, src: Path = SRC) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "FLOWWARDEN_", "PRE_COMMIT", "PYTHON"))}
    env.update({"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "NO_COLOR": "1",
                "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
                "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
                "PYTHONPATH": str(src)})
    return env


def git(repo: Path, env: Mapping[str, str], *args: str, stdin: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, env=dict(env), input=stdin,
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode()


def data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


# --- building repositories fast -------------------------------------------------------------


def tree_stream(files: int) -> bytes:
    """One commit on main holding `files` small files spread over 100-file directories."""
    parts = [b"commit refs/heads/main\n", f"committer {STAMP}\n".encode(), data("Initial"),
             b"M 100644 inline .flowwarden.yaml\n", data("extends: gitflow-ml\n")]
    for i in range(files):
        parts.append(f"M 100644 inline src/d{i // 100:04d}/f{i:06d}.py\n".encode())
        parts.append(data(f"value = {i}\n"))
    return b"".join(parts)


def build_tree_repo(path: Path, env: Mapping[str, str], files: int) -> Path:
    """`files` committed files checked out on feature/bench, 5 changes staged."""
    path.mkdir(parents=True)
    git(path, env, "init", "-q", "-b", "main")
    git(path, env, "fast-import", "--quiet", stdin=tree_stream(files))
    git(path, env, "branch", "develop", "main")
    git(path, env, "checkout", "-q", "-f", "-b", "feature/bench", "develop")
    for i in range(3):
        (path / f"src/new_{i}.py").write_text(f"added = {i}\n")
    (path / "src/d0000/f000001.py").write_text("value = 'changed'\n")
    (path / "src/d0000/f000002.py").write_text("value = 'changed' * 1000\n")
    git(path, env, "add", "src")
    return path


def history_stream(commits: int, linear: bool = False) -> bytes:
    """main/develop at a base commit, and `commits` more on develop: merged features, or
    (`linear`) direct commits, as `--no-verify` would leave them."""
    parts = [b"commit refs/heads/main\nmark :1\n", f"committer {STAMP}\n".encode(),
             data("Initial"), b"M 100644 inline README.md\n", data("# model"),
             b"reset refs/heads/develop\nfrom :1\n"]
    mark, develop = 2, 1
    if linear:
        for n in range(commits):
            parts += [f"commit refs/heads/develop\nmark :{mark}\n".encode(),
                      f"committer {STAMP}\n".encode(), data(f"Direct {n}"),
                      f"from :{develop}\n".encode(),
                      f"M 100644 inline work/{n % 500}.txt\n".encode(), data(str(n))]
            develop, mark = mark, mark + 1
        return b"".join(parts)
    for n in range(commits // 2):
        feature = f"feature/f{n}"
        parts += [f"commit refs/bench/scratch\nmark :{mark}\n".encode(),
                  f"committer {STAMP}\n".encode(), data(f"Work {n}"),
                  f"from :{develop}\n".encode(),
                  f"M 100644 inline work/{n % 500}.txt\n".encode(), data(str(n))]
        parts += [f"commit refs/heads/develop\nmark :{mark + 1}\n".encode(),
                  f"committer {STAMP}\n".encode(),
                  data(f"Merge branch '{feature}' into develop"),
                  f"from :{develop}\nmerge :{mark}\n".encode()]
        develop, mark = mark + 1, mark + 2
    return b"".join(parts)


def build_history_repo(path: Path, env: Mapping[str, str], commits: int,
                       linear: bool = False) -> tuple[Path, str, str]:
    """A clone whose develop is `commits` ahead of origin/develop; returns (repo, old, new)."""
    path.mkdir(parents=True)
    git(path, env, "init", "-q", "-b", "main")
    git(path, env, "fast-import", "--quiet", stdin=history_stream(commits, linear))
    base = git(path, env, "rev-parse", "main").strip()
    new = git(path, env, "rev-parse", "develop").strip()
    if not linear:
        git(path, env, "update-ref", "-d", "refs/bench/scratch")  # merged and deleted
    bare = path.parent / (path.name + "-origin.git")
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], env=dict(env), check=True,
                   capture_output=True)
    git(path, env, "remote", "add", "origin", bare.as_uri())
    git(path, env, "push", "-q", "--no-verify", "origin", f"{base}:refs/heads/main",
        f"{base}:refs/heads/develop")
    git(path, env, "fetch", "-q", "origin")
    git(path, env, "checkout", "-q", "-f", "develop")
    return path, base, new


# --- measuring ------------------------------------------------------------------------------


Command = tuple[Sequence[str], "bytes | None"]


@dataclass(frozen=True)
class Sample:
    seconds: float
    code: int
    output: str


def run_once(cmd: Sequence[str], cwd: Path, env: Mapping[str, str],
             stdin: bytes | None = None) -> Sample:
    start = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=dict(env), input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL,
                          capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    return Sample(elapsed, proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace"))


def compare(repeat: int, cmds: Mapping[str, Command], cwd: Mapping[str, Path],
            env: Mapping[str, str]) -> dict[str, Sample]:
    """Median wall time of each command, run round-robin so that a busy machine slows them
    all alike; one warm-up run each first (it fills flowwarden's policy cache)."""
    for name, (cmd, stdin) in cmds.items():
        run_once(cmd, cwd[name], env, stdin)
    samples: dict[str, list[Sample]] = {name: [] for name in cmds}
    for _ in range(repeat):
        for name, (cmd, stdin) in cmds.items():
            samples[name].append(run_once(cmd, cwd[name], env, stdin))
    return {name: Sample(statistics.median(s.seconds for s in runs), runs[-1].code,
                         runs[-1].output)
            for name, runs in samples.items()}


def peak_rss_mb(cmd: Sequence[str], cwd: Path, env: Mapping[str, str],
                stdin: bytes | None = None) -> float:
    """Peak resident set size of the process tree, by GNU time's %M (kilobytes)."""
    with tempfile.NamedTemporaryFile("r") as report:
        subprocess.run([TIME, "-f", "%M", "-o", report.name, *cmd], cwd=cwd, env=dict(env),
                       input=stdin, capture_output=True, check=False)
        return int(report.read().split()[-1]) / 1024


FW = [sys.executable, "-m", "flowwarden"]


@dataclass
class Table:
    rows: list[tuple[str, str, str]]

    def add(self, what: str, value: str, note: str = "") -> None:
        self.rows.append((what, value, note))
        print(f"  {what:<58} {value:>12}  {note}", flush=True)

    def markdown(self) -> str:
        lines = ["| measurement | value | note |", "|---|---:|---|"]
        lines += [f"| {w} | {v} | {n} |" for w, v, n in self.rows]
        return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def bench_commit_stage(table: Table, root: Path, env: Mapping[str, str], repeat: int,
                       sizes: Sequence[int]) -> None:
    repos = {}
    for files in sizes:
        t0 = time.perf_counter()
        repos[files] = build_tree_repo(root / f"tree-{files}", env, files)
        print(f"built {files}-file repository in {time.perf_counter() - t0:.1f} s", flush=True)
    cmds: dict[str, Command] = {"python": ([sys.executable, "-c", "pass"], None),
                                "python -S": ([sys.executable, "-S", "-c", "pass"], None)}
    cwd = {"python": repos[sizes[0]], "python -S": repos[sizes[0]]}
    for files, repo in repos.items():
        install_shims(repo, env)
        staged = git(repo, env, "diff", "--cached", "--name-only").split()
        for tool, cmd in (("flowwarden", [*FW, "hook", "pre-commit"]),
                          ("shim", [str(repo / ".git" / "hooks" / "pre-commit")]),
                          ("no-commit-to-branch", [str(BIN / "no-commit-to-branch")]),
                          ("check-added-large-files",
                           [str(BIN / "check-added-large-files"), *staged])):
            cmds[f"{tool} {files}"] = (cmd, None)
            cwd[f"{tool} {files}"] = repo
    result = compare(repeat, cmds, cwd, env)
    for name, sample in result.items():
        if sample.code != 0:
            raise SystemExit(f"{name} failed on a legal commit:\n{sample.output}")
    table.add("baseline: python -c pass (interpreter start-up)", ms(result["python"].seconds))
    table.add("baseline: python -S -c pass (start-up without site)",
              ms(result["python -S"].seconds))
    for files, repo in repos.items():
        fw, shim, nctb, cal = (result[f"{tool} {files}"] for tool in
                               ("flowwarden", "shim", "no-commit-to-branch",
                                "check-added-large-files"))
        label = f"{files:,} files"
        table.add(f"pre-commit: flowwarden hook pre-commit ({label})", ms(fw.seconds))
        table.add(f"pre-commit: installed shim .git/hooks/pre-commit ({label})",
                  ms(shim.seconds), "what git runs")
        table.add(f"pre-commit: no-commit-to-branch ({label})", ms(nctb.seconds))
        table.add(f"pre-commit: check-added-large-files ({label})", ms(cal.seconds))
        table.add(f"ratio flowwarden / no-commit-to-branch ({label})",
                  f"{fw.seconds / nctb.seconds:.2f}x", "python -m flowwarden")
        table.add(f"ratio shim / no-commit-to-branch ({label})",
                  f"{shim.seconds / nctb.seconds:.2f}x", "target <= 1.0x")
        table.add(f"ratio flowwarden / check-added-large-files ({label})",
                  f"{fw.seconds / cal.seconds:.2f}x")
        table.add(f"peak RSS flowwarden hook pre-commit ({label})",
                  f"{peak_rss_mb([*FW, 'hook', 'pre-commit'], repo, env):.1f} MB",
                  "target <= 60 MB")
    if len(sizes) > 1:
        first, last = (result[f"flowwarden {n}"].seconds for n in (sizes[0], sizes[-1]))
        table.add(f"growth flowwarden {sizes[0]:,} -> {sizes[-1]:,} files",
                  f"{last / first:.2f}x", "target <= 1.3x")
    bench_commit_msg(table, repos[sizes[0]], env, repeat)
    bench_whole_commit(table, repos[sizes[0]], env, repeat)


def install_shims(repo: Path, env: Mapping[str, str]) -> None:
    """`flowwarden install`, as a user of the measured checkout would run it."""
    done = run_once([*FW, "install"], repo, env)
    if done.code != 0:
        raise SystemExit(f"flowwarden install failed:\n{done.output}")


def bench_commit_msg(table: Table, repo: Path, env: Mapping[str, str], repeat: int) -> None:
    message = repo / ".git" / "COMMIT_EDITMSG"
    message.write_text("Add the training script\n\nTrains the baseline model.\n")
    run_once([str(repo / ".git" / "hooks" / "pre-commit")], repo, env)  # as git runs it first
    cmds: dict[str, Command] = {
        "flowwarden": ([*FW, "hook", "commit-msg", str(message)], None),
        "shim": ([str(repo / ".git" / "hooks" / "commit-msg"), str(message)], None),
        "gitlint": ([str(BIN / "gitlint"), "--staged", "--msg-filename", str(message)], None),
    }
    result = compare(repeat, cmds, {name: repo for name in cmds}, env)
    fw, shim, gl = result["flowwarden"], result["shim"], result["gitlint"]
    for name, sample in result.items():
        if sample.code != 0:
            raise SystemExit(f"{name} refused a good message:\n{sample.output}")
    table.add("commit-msg: flowwarden hook commit-msg", ms(fw.seconds))
    table.add("commit-msg: installed shim .git/hooks/commit-msg (feature branch)",
              ms(shim.seconds), "what git runs")
    table.add("commit-msg: gitlint --staged --msg-filename", ms(gl.seconds))
    table.add("ratio flowwarden / gitlint", f"{fw.seconds / gl.seconds:.2f}x",
              "python -m flowwarden")
    table.add("ratio shim / gitlint", f"{shim.seconds / gl.seconds:.2f}x", "target <= 0.3x")


def bench_whole_commit(table: Table, repo: Path, env: Mapping[str, str], repeat: int) -> None:
    """`git commit` of the 5 staged files through the installed shims (pre-commit,
    prepare-commit-msg, commit-msg), undone untimed with `reset --soft` after each run."""
    commit = ["git", "commit", "-q", "-m", "Add the training script"]
    plain = ["git", "-c", f"core.hooksPath={os.devnull}", *commit[1:]]
    nctb = [str(BIN / "no-commit-to-branch")]
    runs: dict[str, list[float]] = {"hooks": [], "plain": [], "nctb": []}
    for i in range(repeat + 1):  # the first round warms up
        for name, cmd in (("hooks", commit), ("plain", plain), ("nctb", nctb)):
            sample = run_once(cmd, repo, env)
            if sample.code != 0:
                raise SystemExit(f"{' '.join(cmd)} failed:\n{sample.output}")
            if name != "nctb":
                git(repo, env, "reset", "-q", "--soft", "HEAD~1")
            if i:
                runs[name].append(sample.seconds)
    hooks, plain_s, nctb_s = (statistics.median(runs[n]) for n in ("hooks", "plain", "nctb"))
    table.add("git commit through the shims (3 hook stages)", ms(hooks))
    table.add("git commit with no hooks", ms(plain_s))
    table.add("no-commit-to-branch, same rounds", ms(nctb_s))
    table.add("ratio git commit with hooks / no-commit-to-branch",
              f"{hooks / nctb_s:.2f}x", "target <= 2x")


def bench_push(table: Table, root: Path, env: Mapping[str, str], repeat: int,
               commits: int) -> None:
    t0 = time.perf_counter()
    repo, old, new = build_history_repo(root / "history", env, commits)
    print(f"built {commits:,}-commit history in {time.perf_counter() - t0:.1f} s", flush=True)
    url = (root / "history-origin.git").as_uri()
    stdin = f"refs/heads/develop {new} refs/heads/develop {old}\n".encode()
    cmd = [*FW, "hook", "pre-push", "origin", url]
    git(repo, env, "branch", "feature/bench", new)
    feature = f"refs/heads/feature/bench {new} refs/heads/feature/bench {ZERO}\n".encode()
    direct, d_old, d_new = build_history_repo(root / "direct", env, commits, linear=True)
    d_cmd = [*FW, "hook", "pre-push", "origin", (root / "direct-origin.git").as_uri()]
    d_stdin = f"refs/heads/develop {d_new} refs/heads/develop {d_old}\n".encode()
    result = compare(max(3, repeat // 3), {"develop": (cmd, stdin), "feature": (cmd, feature),
                                           "direct": (d_cmd, d_stdin)},
                     {"develop": repo, "feature": repo, "direct": direct}, env)
    sample, created, refused = result["develop"], result["feature"], result["direct"]
    table.add(f"pre-push: {commits:,} new commits on develop (merged features)",
              ms(sample.seconds), f"target <= 500 ms, exit {sample.code}")
    table.add(f"peak RSS flowwarden pre-push ({commits:,} commits)",
              f"{peak_rss_mb(cmd, repo, env, stdin):.1f} MB", "target <= 60 MB")
    table.add(f"pre-push: new branch carrying {commits:,} commits", ms(created.seconds),
              f"exit {created.code}")
    table.add(f"pre-push: {commits:,} direct commits on develop (refused)",
              ms(refused.seconds), f"exit {refused.code}, {len(refused.output):,} bytes of report")
    bench_walk(table, repo, env, new, repeat)


WALK_PYGIT2 = """
import sys, time
t0 = time.perf_counter()
import pygit2
t1 = time.perf_counter()
repo = pygit2.Repository(sys.argv[1])
n = sum(1 for c in repo.walk(sys.argv[2]) if c.message is not None and c.parent_ids is not None)
t2 = time.perf_counter()
print(n, t1 - t0, t2 - t1)
"""

WALK_GIT = """
import subprocess, sys, time
t0 = time.perf_counter()
out = subprocess.run(["git", "log", "-z", "--format=%H %P%n%B", sys.argv[2]], cwd=sys.argv[1],
                     capture_output=True, check=True).stdout
n = sum(1 for record in out.decode(errors="replace").split("\\0") if record)
print(n, 0.0, time.perf_counter() - t0)
"""


def bench_walk(table: Table, repo: Path, env: Mapping[str, str], tip: str, repeat: int) -> None:
    """To inform the design: pygit2 (import included) vs one `git log` subprocess."""
    for name, script in (("pygit2", WALK_PYGIT2), ("git log subprocess", WALK_GIT)):
        runs = [run_once([sys.executable, "-c", script, str(repo), tip], repo, env)
                for _ in range(max(3, repeat // 3))]
        fields = [tuple(float(x) for x in r.output.split()) for r in runs]
        count = int(fields[0][0])
        imp = statistics.median(f[1] for f in fields)
        walk = statistics.median(f[2] for f in fields)
        total = statistics.median(r.seconds for r in runs)
        table.add(f"walk {count:,} commits: {name}, in-process (import + walk)",
                  ms(imp + walk), f"import {ms(imp)}, walk {ms(walk)}")
        table.add(f"walk {count:,} commits: {name}, whole process", ms(total))


def tool_versions(env: Mapping[str, str], src: Path) -> str:
    def first(cmd: list[str]) -> str:
        out = run_once(cmd, PROJECT, env).output.strip().splitlines()
        return out[0] if out else "?"
    head = run_once(["git", "-C", str(src), "rev-parse", "--short", "HEAD"], PROJECT, env)
    where = head.output.strip() if head.code == 0 else src
    return "; ".join([
        f"flowwarden at {where}", first(["git", "--version"]),
        f"Python {sys.version.split()[0]}", first([str(BIN / "gitlint"), "--version"]),
        f"{os.cpu_count()} CPUs",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs per median (default 15)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="build here and keep the repositories")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--src", type=Path, default=SRC,
                        help="the flowwarden source to measure (default: this checkout's)")
    parser.add_argument("--no-push", action="store_true", help="skip the push benchmarks")
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="fw-bench-"))
    env = clean_env(root / "home", args.src.resolve())
    (root / "home").mkdir(parents=True, exist_ok=True)
    # gitlint --staged asks git config for the author, as a user's commit would find it
    (root / "home" / ".gitconfig").write_text("[user]\n\tname = Ada\n\temail = ada@example.com\n")
    table = Table([])
    try:
        print(tool_versions(env, args.src), flush=True)
        print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
        bench_commit_stage(table, root, env, args.repeat, args.sizes)
        if not args.no_push:
            bench_push(table, root, env, args.repeat, args.commits)
        table.add("load average (1 min) after the run", f"{os.getloadavg()[0]:.2f}",
                  f"{os.cpu_count()} CPUs; other work on the machine inflates every row alike")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    if args.markdown:
        args.markdown.write_text(table.markdown() + "\n")
    print("\n" + table.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
