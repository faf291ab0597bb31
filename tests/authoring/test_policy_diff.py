"""`policy diff --against REF` and `audit --policy FILE` on real-shaped Git Flow histories."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from fwkit import Result, run
from histories import Shape, build

RELAXED = "extends: gitflow-ml\nrules:\n  protected-history: {severity: warning}\n"
# Features may no longer merge into develop: every feature merge in the history turns refused.
RENAMED = "extends: gitflow-ml\nbranches:\n  feature: {into: [release]}\n"


def fw(path: Path, env: dict[str, str], *args: str) -> Result:
    return run(["flowwarden", *args], path, env)


def test_audit_policy_counts_what_a_change_would_allow(
        tmp_path: Path, env: dict[str, str]) -> None:
    repo = build(tmp_path / "repo", Shape(features=10), env).path
    baseline = json.loads(fw(repo, env, "audit", "--format", "json").out)
    assert baseline["counts"].get("protected-history", 0) > 0
    (tmp_path / "relaxed.yaml").write_text(RELAXED)
    result = fw(repo, env, "audit", "--policy", str(tmp_path / "relaxed.yaml"),
                "--format", "json")
    assert result.code == 0, result.text
    change = json.loads(result.out)
    assert change["counts"] == {"protected-history": {
        "refused": 0, "allowed": baseline["counts"]["protected-history"]}}
    assert change["newly_refused"] == []
    text = fw(repo, env, "audit", "--policy", str(tmp_path / "relaxed.yaml")).out
    assert "newly refused (0):" in text and "protected-history" in text


def test_policy_diff_against_a_ref_reads_the_committed_policy(
        tmp_path: Path, env: dict[str, str]) -> None:
    repo = build(tmp_path / "repo", Shape(features=8, squash_every=0), env).path
    subprocess.run(["git", "checkout", "-q", "develop"], cwd=repo, env=env, check=True)
    (repo / ".flowwarden.yaml").write_text(RENAMED)
    result = fw(repo, env, "policy", "diff", "--against", "develop", "--format", "json")
    assert result.code == 0, result.text
    change = json.loads(result.out)
    assert change["current"] == "preset gitflow-ml"  # develop has no policy committed
    assert change["proposed"] == ".flowwarden.yaml"
    refused = change["counts"]["protected-history"]["refused"]
    assert refused >= 5, change  # feature merges into develop are no longer allowed
    assert change["newly_allowed"] == []
    assert all("feature/" in v["message"] for v in change["newly_refused"])
    markdown = fw(repo, env, "policy", "diff", "--against", "develop", "--format", "markdown").out
    assert f"| `protected-history` | {refused} | 0 |" in markdown
    assert "**Newly refused**" in markdown and "\\(feature\\)" in markdown
    # the committed policy is the current one: committing the change leaves nothing to diff
    subprocess.run(["git", "add", ".flowwarden.yaml"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "commit", "-qm", "Rename features", "--no-verify"], cwd=repo,
                   env=env, check=True)
    same = json.loads(fw(repo, env, "policy", "diff", "--against", "HEAD",
                         "--format", "json").out)
    assert same["counts"] == {} and same["current"] == "HEAD:.flowwarden.yaml"


def test_policy_diff_needs_a_commit(tmp_path: Path, env: dict[str, str]) -> None:
    repo = build(tmp_path / "repo", Shape(features=2), env).path
    result = fw(repo, env, "policy", "diff", "--against", "no-such-ref")
    assert result.code == 2 and "--against no-such-ref is not a commit" in result.err
    missing = fw(repo, env, "audit", "--policy", "nowhere.yaml")
    assert missing.code == 2 and "no such policy file" in missing.err
