"""`flowwarden audit` over real-shaped Git Flow histories: the history is read with a fixed
number of git processes, walked once, and each finding is reported once, where it came in."""
from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from fwkit import Repo, make_repo
from histories import Shape, build


def audit(repo: Repo, *args: str) -> dict[str, Any]:
    result = repo.fw("audit", "--format", "json", *args)
    assert result.code in (0, 1), result.text
    report: dict[str, Any] = json.loads(result.out)
    return report


def counting(env: dict[str, str], tmp_path: Path) -> tuple[dict[str, str], Path]:
    """`env` whose `git` is a shim that counts its calls."""
    bin_dir, count = tmp_path / "counting", tmp_path / "git-calls"
    bin_dir.mkdir()
    real = next(Path(d) / "git" for d in os.defpath.split(os.pathsep) + env["PATH"].split(
        os.pathsep) if (Path(d) / "git").is_file())
    shim = bin_dir / "git"
    shim.write_text(f'#!/bin/sh\necho x >> "{count}"\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    return {**env, "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}"}, count


def test_an_audit_runs_as_many_git_processes_for_a_ten_times_longer_history(
        tmp_path: Path, env: dict[str, str]) -> None:
    counted, count = counting(env, tmp_path)
    calls = []
    for name, features in (("small", 6), ("large", 60)):
        built = build(tmp_path / name, Shape(features=features, fixture_every=2), env)
        count.write_text("")
        report = audit(Repo(built.path, counted))
        assert report["commits"] > features
        calls.append(len(count.read_text().splitlines()))
    assert calls[0] == calls[1], calls
    assert calls[0] <= 20, calls


def first_parent_steps(repo: Repo, *branches: str) -> set[str]:
    return set(repo.git("rev-list", "--first-parent", "--min-parents=1", *branches).out.split())


def test_branches_that_share_history_are_walked_once(tmp_path: Path,
                                                     env: dict[str, str]) -> None:
    repo = Repo(build(tmp_path / "repo", Shape(features=12, squash_every=3), env).path, env)
    repo.git("branch", "-f", "main", "develop")  # as kedro's main and develop are
    report = audit(repo)
    assert [b["name"] for b in report["branches"]] == ["main", "develop"]
    assert report["commits"] == len(first_parent_steps(repo, "develop"))
    messages = [v["message"] for v in report["violations"]]
    assert messages and len(set(messages)) == len(messages)
    named = Counter(m.split()[0] for m in messages)
    assert max(named.values()) == 1  # each finding names its own commit, once
    assert all(m.split()[0] + " on main" in m for m in messages)  # judged on main, first


def test_each_step_of_diverged_lines_is_judged_once(tmp_path: Path,
                                                    env: dict[str, str]) -> None:
    repo = Repo(build(tmp_path / "repo", Shape(features=10), env).path, env)
    repo.commit_file("src/tuned.py", "lr = 0.1\n", "Tune directly", "--no-verify")
    repo.git("switch", "-q", "-c", "release/9.0.0")
    repo.git("switch", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "release/9.0.0", "-m", "Merge branch 'release/9.0.0'")
    report = audit(repo)
    assert report["commits"] == len(first_parent_steps(repo, "main", "develop"))
    direct = [v["message"] for v in report["violations"] if "Tune directly" in v["message"]]
    assert len(direct) == 1 and " on develop " in direct[0], report["violations"]
    shas = [v["message"].split()[0] for v in report["violations"]]
    assert len(shas) == len(set(shas))


def data_history(repo: Repo) -> tuple[str, str]:
    """Two features each commit a CSV under data/; both reach develop, then main."""
    shas = []
    for name in ("a", "b"):
        repo.git("switch", "-q", "-c", f"feature/{name}", "develop")
        repo.commit_file(f"src/{name}.py", "x = 1\n", f"Code for {name}")
        repo.commit_file(f"data/{name}.csv", "x,y\n1,2\n", f"Add data {name}")
        shas.append(repo.sha())
        repo.commit_file(f"src/{name}_more.py", "y = 2\n", f"More code for {name}")
        repo.git("switch", "-q", "develop")
        repo.git("merge", "-q", "--no-ff", f"feature/{name}",
                 "-m", f"Merge branch 'feature/{name}' into develop")
        repo.git("branch", "-q", "-D", f"feature/{name}")
    repo.git("switch", "-q", "-c", "release/1.0.0", "develop")
    repo.git("switch", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "release/1.0.0", "-m", "Merge branch 'release/1.0.0'")
    repo.git("switch", "-q", "develop")
    repo.git("merge", "-q", "--no-ff", "release/1.0.0",
             "-m", "Merge branch 'release/1.0.0' into develop")
    return shas[0], shas[1]


def test_a_data_file_is_reported_once_at_the_commit_that_brought_it(
        tmp_path: Path, env: dict[str, str]) -> None:
    repo = make_repo(tmp_path / "repo", env)
    first, second = data_history(repo)
    report = audit(repo)
    data = [v for v in report["violations"] if v["rule"] == "dvc-untracked-data"]
    assert sorted(v["subject"] for v in data) == sorted(
        [f"{first[:7]}:data/a.csv", f"{second[:7]}:data/b.csv"]), report["violations"]
    assert report["counts"]["dvc-untracked-data"] == 2
