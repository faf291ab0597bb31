"""Audits of generated Git Flow histories (tests/histories.py): squash-merged pull requests,
forge subjects, tag back-merges and deleted branches all pass; a spoofed release does not."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from fwkit import Repo
from histories import Shape, build


def audit(path: Path, env: dict[str, str]) -> list[dict[str, str]]:
    """The audit's violations but the generator's own first commit on develop, which is a
    direct one (`Start develop`)."""
    result = Repo(path, env).fw("audit", "--format", "json")
    found: list[dict[str, str]] = json.loads(result.out)["violations"]
    return [v for v in found if "Start develop" not in v["message"]]


def test_a_real_shaped_history_audits_clean(tmp_path: Path, env: dict[str, str]) -> None:
    built = build(tmp_path / "h", Shape(features=12, release_every=4, hotfix_every=2),
                  env=env)
    assert built.squashes > 0
    assert audit(built.path, env) == []


def test_a_spoofed_release_in_a_generated_history_is_found(tmp_path: Path,
                                                           env: dict[str, str]) -> None:
    built = build(tmp_path / "h", Shape(features=4, release_every=10), env=env)
    repo = Repo(built.path, env)
    repo.git("switch", "-q", "-c", "feature/sneak", "develop")
    repo.commit_file("src/sneak.py", "x = 1\n", "Sneak in")
    repo.git("switch", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "--no-verify", "feature/sneak", "-m",
             "Merge branch 'release/9.9.9'")
    subprocess.run(["git", "checkout", "-q", "develop"], cwd=built.path, env=env, check=True)
    [violation] = audit(built.path, env)
    assert violation["rule"] == "protected-history"
    assert "merges feature/sneak (feature)" in violation["message"]
    assert "its subject claims release/9.9.9" in violation["message"]
