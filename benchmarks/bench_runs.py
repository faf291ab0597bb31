"""Benchmark: the commit-msg stage citing an MLflow run, against `gitlint --msg-filename`.

Starts a real `mlflow server` on 127.0.0.1 (sqlite backend, in a temporary directory), logs
one finished run over its REST API, then times in the same run:

- `flowwarden hook commit-msg` with the run verified over REST against the warm server,
- the same with `runs.verify: false` (trailer syntax only),
- `gitlint --msg-filename` on the same message,
- `python -c pass`, the floor any Python hook pays (site imports included),
- with `--baseline DIR`, the first two again from another checkout's `DIR/src` (e.g. an
  earlier commit unpacked with `git archive`), each in a repository of its own.

Each command runs as git runs a hook: a fresh process per call. Not a test; prints a table.
Usage: python benchmarks/bench_runs.py [--rounds 30] [--baseline DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parent.parent / "src"
BRANCH = "experiment/bench"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# uvicorn (MLflow 3) and gunicorn (MLflow 2) each log the address they bound.
LISTENING = re.compile(r"(?:Uvicorn running on|Listening at:) (http://127\.0\.0\.1:[1-9][0-9]*)")


def start_server(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A server on a port of its own choosing (port 0), read back from its log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    log = work / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", "0",
             "--workers", "1", "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}",
             "--default-artifact-root", str(work / "artifacts")],
            cwd=work, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        bound = LISTENING.search(log.read_text(errors="replace"))
        try:
            if bound:
                with NO_PROXY.open(f"{bound[1]}/health", timeout=2):
                    return proc, bound[1]
        except OSError:
            pass
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit(f"mlflow server did not become healthy in 120 s:\n{log.read_text()[-2000:]}")


def stop(server: subprocess.Popen[bytes]) -> None:
    """End the server's process group; a loaded machine may need more than a polite ask."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def rest(url: str, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(f"{url}/api/2.0/mlflow/{endpoint}",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with NO_PROXY.open(request, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read() or b"{}")
        return answer


def log_finished_run(url: str) -> str:
    experiment = rest(url, "experiments/create", {"name": "bench"})["experiment_id"]
    run = rest(url, "runs/create", {"experiment_id": experiment, "start_time": 0, "tags": [
        {"key": "mlflow.source.git.branch", "value": BRANCH}]})["run"]["info"]["run_id"]
    rest(url, "runs/log-metric", {"run_id": run, "key": "val_accuracy", "value": 0.93,
                                  "timestamp": 0, "step": 0})
    rest(url, "runs/update", {"run_id": run, "status": "FINISHED", "end_time": 1})
    return str(run)


def make_repo(root: Path, policy: str, env: Mapping[str, str]) -> Path:
    root.mkdir()
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "Init"],
                 ["switch", "-qc", BRANCH]):
        subprocess.run(["git", *args], cwd=root, env=dict(env), check=True)
    (root / ".flowwarden.yaml").write_text(policy)
    return root


Samples = tuple[list[float], list[float]]  # wall seconds, CPU seconds (user + sys)


Case = tuple[str, Sequence[str], Path, Mapping[str, str]]  # label, command, directory, env


def once(cmd: Sequence[str], cwd: Path, env: Mapping[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(list(cmd), cwd=cwd, env=dict(env), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def measure(cases: list[Case], rounds: int) -> list[tuple[str, Samples]]:
    """Each round runs every case once, so a busy moment of the machine hits them all."""
    for _label, cmd, cwd, env in cases:
        result = subprocess.run(list(cmd), cwd=cwd, env=dict(env), capture_output=True,
                                text=True)
        if result.returncode != 0:  # the message is valid: every tool must accept it
            raise SystemExit(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}"
                             f"{result.stderr}")
    samples: list[Samples] = [([], []) for _ in cases]
    for _ in range(rounds):
        for (_label, cmd, cwd, env), (walls, cpus) in zip(cases, samples, strict=True):
            wall, cpu = once(cmd, cwd, env)
            walls.append(wall)
            cpus.append(cpu)
    return [(case[0], sample) for case, sample in zip(cases, samples, strict=True)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--baseline", type=Path, help="another checkout to time alongside")
    ns = parser.parse_args(argv)
    gitlint = shutil.which("gitlint")
    if gitlint is None:
        raise SystemExit("gitlint is not on PATH (pip install gitlint)")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "MLFLOW_", "FLOWWARDEN_"))}
    env.update({"PYTHONPATH": str(SRC), "NO_COLOR": "1", "GIT_AUTHOR_NAME": "Bench",
                "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "Bench",
                "GIT_COMMITTER_EMAIL": "bench@example.com"})
    with tempfile.TemporaryDirectory(prefix="fw-bench-runs-") as tmp:
        work = Path(tmp)
        # An installed package has its bytecode compiled; give this checkout the same, in a
        # cache outside the work tree, whatever PYTHONDONTWRITEBYTECODE says.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        (work / "server").mkdir()
        server, url = start_server(work / "server")
        try:
            run_id = log_finished_run(url)
            message = work / "COMMIT_EDITMSG"
            message.write_text(f"Train a wider encoder\n\nWider layers, same data.\n\n"
                               f"MLflow-Run-Id: {run_id}\n")
            policy = f"extends: gitflow-ml\nruns:\n  tracking_uri: {url}\n"
            hook = [sys.executable, "-m", "flowwarden", "hook", "commit-msg", str(message)]
            lint = [gitlint, "--msg-filename", str(message)]
            cases: list[Case] = [("gitlint --msg-filename", lint, work / "verified0", env)]
            trees = [("", env)]
            if ns.baseline is not None:
                trees.append((f" [{ns.baseline.name}]",
                              {**env, "PYTHONPATH": str(ns.baseline.resolve() / "src")}))
            for n, (tag, tree_env) in enumerate(trees):
                verified = make_repo(work / f"verified{n}", policy, tree_env)
                offline = make_repo(work / f"offline{n}", policy + "  verify: false\n", tree_env)
                for repo in (verified, offline):  # warm the policy cache
                    subprocess.run(hook, cwd=repo, env=tree_env, check=True)
                cases += [(f"flowwarden commit-msg, run verified over REST{tag}", hook, verified,
                           tree_env),
                          (f"flowwarden commit-msg, verify: false{tag}", hook, offline, tree_env)]
            cases.append(("python -c pass (the interpreter's floor)",
                          [sys.executable, "-c", "pass"], work / "verified0", env))
            rows = measure(cases, ns.rounds)
        finally:
            stop(server)
    report(rows, ns.rounds)
    return 0


def report(rows: list[tuple[str, Samples]], rounds: int) -> None:
    """Wall time includes the server's answer; CPU time is the hook's own work, which a
    loaded machine disturbs less."""
    base_wall = statistics.median(rows[0][1][0])
    base_cpu = statistics.median(rows[0][1][1])
    width = max(len(name) for name, _ in rows)
    print(f"commit-msg with a cited MLflow run, {rounds} rounds, fresh process per call, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'command':<{width}}  {'wall ms':>8}  {'p90 ms':>7}  {'x gitlint':>9}  "
          f"{'CPU ms':>7}  {'x gitlint':>9}")
    for name, (walls, cpus) in rows:
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        p90 = sorted(walls)[int(0.9 * (len(walls) - 1))]
        print(f"{name:<{width}}  {wall * 1000:8.1f}  {p90 * 1000:7.1f}  {wall / base_wall:9.2f}  "
              f"{cpu * 1000:7.1f}  {cpu / base_cpu:9.2f}")


if __name__ == "__main__":
    sys.exit(main())
