"""Tests before merge at the local hook stages (the engine's merge stages call the checks)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from fwkit import Repo

SCRIPT = ("import os, pathlib; print('checked', sorted(os.listdir('src'))); "
          "raise SystemExit(1 if pathlib.Path('src/broken.py').exists() else 0)")


def with_checks(repo: Repo) -> None:
    """develop carries a policy whose unit tests fail while src/broken.py exists."""
    repo.git("switch", "-q", "develop")
    repo.write(".flowwarden.yaml",
               "version: 1\nextends: gitflow-ml\nchecks:\n  - name: unit tests\n"
               f"    run: [{json.dumps(sys.executable)}, -c, {json.dumps(SCRIPT)}]\n"
               "    before_merge_into: [develop]\n")
    repo.write("src/model.py", "ok = True\n")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "Adopt flowwarden with unit tests", "--no-verify")


def feature_with(repo: Repo, name: str, path: str) -> None:
    repo.git("switch", "-q", "-c", name, "develop")
    repo.commit_file(path, "x = 1\n", f"Add {path}")
    repo.git("switch", "-q", "develop")


def test_a_merge_into_develop_runs_the_checks_and_passes(shim_repo: Repo) -> None:
    with_checks(shim_repo)
    feature_with(shim_repo, "feature/good", "src/good.py")
    result = shim_repo.git("merge", "--no-ff", "feature/good", "-m",
                           "Merge branch 'feature/good' into develop", check=False)
    assert result.code == 0, result.text
    assert "checked ['good.py', 'model.py']" in result.text  # the merged tree was tested
    assert "check 'unit tests' passed in" in result.text


def test_a_failing_check_refuses_the_merge(shim_repo: Repo) -> None:
    with_checks(shim_repo)
    feature_with(shim_repo, "feature/bad", "src/broken.py")
    before = shim_repo.sha("develop")
    result = shim_repo.git("merge", "--no-ff", "feature/bad", "-m",
                           "Merge branch 'feature/bad' into develop", check=False)
    assert result.code != 0, result.text
    assert "tests-before-merge" in result.text and "'unit tests'" in result.text
    assert "check 'unit tests' FAILED in" in result.text
    shim_repo.git("merge", "--abort", check=False)
    assert shim_repo.sha("develop") == before


def test_flowwarden_skip_lets_the_merge_through_without_running_the_checks(
        shim_repo: Repo) -> None:
    """The refusal says to skip with FLOWWARDEN_SKIP=tests-before-merge: that must work."""
    with_checks(shim_repo)
    feature_with(shim_repo, "feature/bad", "src/broken.py")
    refused = shim_repo.git("merge", "--no-ff", "feature/bad", "-m",
                            "Merge branch 'feature/bad' into develop", check=False)
    assert "FLOWWARDEN_SKIP=tests-before-merge" in refused.text
    shim_repo.git("merge", "--abort", check=False)
    for skip in ("tests-before-merge", "all"):
        before = shim_repo.sha("develop")
        result = shim_repo.git("merge", "--no-ff", "feature/bad", "-m",
                               "Merge branch 'feature/bad' into develop", check=False,
                               env={"FLOWWARDEN_SKIP": skip})
        assert result.code == 0, result.text
        assert "checked [" not in result.text, "the skipped check ran"
        assert "not run: FLOWWARDEN_SKIP skips tests-before-merge" in result.text
        shim_repo.git("reset", "-q", "--hard", before)


def test_a_merge_runs_the_targets_checks_never_the_incoming_branchs(shim_repo: Repo) -> None:
    """The incoming branch rewrites `checks:` to run its own command; the merge into develop
    runs develop's committed checks, and the incoming command never runs."""
    with_checks(shim_repo)
    shim_repo.git("switch", "-q", "-c", "feature/evil", "develop")
    shim_repo.write(".flowwarden.yaml",
                    "version: 1\nextends: gitflow-ml\nchecks:\n  - name: unit tests\n"
                    "    run: [sh, -c, 'touch PWNED']\n    before_merge_into: [develop]\n")
    shim_repo.commit_file("src/evil.py", "x = 1\n", "Add evil", "--no-verify")
    shim_repo.git("add", "-A")
    shim_repo.git("commit", "-qm", "Own checks", "--no-verify")
    shim_repo.git("switch", "-q", "develop")
    result = shim_repo.git("merge", "--no-ff", "feature/evil", "-m",
                           "Merge branch 'feature/evil' into develop", check=False)
    assert not (shim_repo.path / "PWNED").exists(), result.text
    assert "checked ['evil.py', 'model.py']" in result.text, result.text


def test_a_push_runs_the_checks_the_remote_holds_not_a_merged_in_policy(
        shim_repo: Repo, tmp_path: Path) -> None:
    """develop merged (with --no-verify) a branch that rewrote `checks:`; pushing develop runs
    the checks of develop as the remote holds it, never the merged-in command."""
    with_checks(shim_repo)
    remote = tmp_path / "remote.git"
    shim_repo.git("init", "-q", "--bare", str(remote))
    shim_repo.git("remote", "add", "origin", remote.as_uri())
    shim_repo.git("push", "-q", "--no-verify", "origin", "main", "develop")
    shim_repo.git("switch", "-q", "-c", "feature/evil", "develop")
    shim_repo.write(".flowwarden.yaml",
                    "version: 1\nextends: gitflow-ml\nchecks:\n  - name: unit tests\n"
                    "    run: [sh, -c, 'touch PWNED']\n    before_merge_into: [develop]\n")
    shim_repo.git("add", "-A")
    shim_repo.git("commit", "-qm", "Own checks", "--no-verify")
    shim_repo.git("switch", "-q", "develop")
    shim_repo.git("merge", "-q", "--no-ff", "--no-verify", "-m",
                  "Merge branch 'feature/evil' into develop", "feature/evil")
    result = shim_repo.git("push", "origin", "develop", check=False)
    assert not (shim_repo.path / "PWNED").exists(), result.text
    assert "checked ['model.py']" in result.text, result.text
