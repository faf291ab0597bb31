"""`flowwarden audit` over real-shaped Git Flow histories: the history is read with a fixed
number of git processes, walked once, and each finding is reported once, where it came in."""
from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from fwkit import Repo
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
        built = build(tmp_path / name, Shape(features=features), env)
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
    repo = Repo(build(tmp_path / "repo", Shape(features=10, squash_every=2), env).path, env)
    report = audit(repo)
    assert report["commits"] == len(first_parent_steps(repo, "main", "develop"))
    squashed = [v for v in report["violations"] if "(#" in v["message"]]
    assert squashed and all(" on develop " in v["message"] for v in squashed)
    shas = [v["message"].split()[0] for v in report["violations"]]
    assert len(shas) == len(set(shas))
