"""What a local pre-push refuses, the server's pre-receive refuses too, with the same rule
ids, subjects and messages (DESIGN: CI and the server are where the policy is law)."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from corekit import add_bare_remote, branch_with_commit, commit_quiet, merge_quiet, quiet

from fwkit import Repo

ZERO = "0" * 40
Scenario = Callable[[Repo], tuple[str, str, str]]  # -> (ref, old, new)


def direct_on_develop(repo: Repo) -> tuple[str, str, str]:
    old = repo.sha("develop")
    quiet(repo, "switch", "-q", "develop")
    return "refs/heads/develop", old, commit_quiet(repo, "hack.py")


def fast_forward_main(repo: Repo) -> tuple[str, str, str]:
    old = repo.sha("main")
    branch_with_commit(repo, "feature/a", "develop")
    merge_quiet(repo, "develop", "feature/a")
    return "refs/heads/main", old, merge_quiet(repo, "main", "develop", ff=True)


def force_main(repo: Repo) -> tuple[str, str, str]:
    old = repo.sha("main")
    quiet(repo, "switch", "-q", "main")
    quiet(repo, "commit", "-q", "--amend", "-m", "Rewritten")
    return "refs/heads/main", old, repo.sha()


def delete_main(repo: Repo) -> tuple[str, str, str]:
    return "refs/heads/main", repo.sha("main"), ZERO


def hotfix_from_develop(repo: Repo) -> tuple[str, str, str]:
    branch_with_commit(repo, "feature/a", "develop")
    merge_quiet(repo, "develop", "feature/a")
    quiet(repo, "push", "-q", "--no-verify", "origin", "develop")
    return "refs/heads/hotfix/crash", ZERO, branch_with_commit(repo, "hotfix/crash", "develop")


def bad_name(repo: Repo) -> tuple[str, str, str]:
    return "refs/heads/Feature_A", ZERO, branch_with_commit(repo, "Feature_A", "develop")


SCENARIOS: dict[str, Scenario] = {
    "direct-on-develop": direct_on_develop, "fast-forward-main": fast_forward_main,
    "force-main": force_main, "delete-main": delete_main,
    "hotfix-from-develop": hotfix_from_develop, "bad-name": bad_name,
}


def verdicts(result_out: str) -> set[tuple[str, str, str, str]]:
    document = json.loads(result_out)
    return {(v["rule"], v["severity"], v["subject"], v["message"])
            for v in document["violations"]}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_server_says_what_the_local_hook_says(repo: Repo, tmp_path: Path, name: str) -> None:
    server = add_bare_remote(repo, tmp_path / "server.git")
    ref, old, new = SCENARIOS[name](repo)
    if new != ZERO:  # the objects reach the server as a push would bring them
        quiet(repo, "push", "-q", "--no-verify", "--force", "origin", f"{new}:refs/incoming/x")
    local = repo.fw("--format", "json", "hook", "pre-push", "origin",
                    server.path.as_uri(), stdin=f"{ref} {new} {ref} {old}\n")
    remote = server.fw("--format", "json", "hook", "pre-receive", stdin=f"{old} {new} {ref}\n")
    assert local.code == remote.code == 1, local.text + remote.text
    assert verdicts(local.out) == verdicts(remote.out)


def test_skip_is_ignored_on_the_server_unless_the_policy_allows_it(repo: Repo,
                                                                   tmp_path: Path) -> None:
    server = add_bare_remote(repo, tmp_path / "server.git")
    ref, old, new = direct_on_develop(repo)
    quiet(repo, "push", "-q", "--no-verify", "origin", f"{new}:refs/incoming/x")
    skip = {"FLOWWARDEN_SKIP": "protected-history"}
    refused = server.fw("hook", "pre-receive", stdin=f"{old} {new} {ref}\n", env=skip)
    assert refused.code == 1 and "protected-history" in refused.text, refused.text
    local = repo.fw("hook", "pre-push", "origin", server.path.as_uri(),
                    stdin=f"{ref} {new} {ref} {old}\n", env=skip)
    assert local.code == 0 and "waived" in local.text.lower(), local.text


def test_server_honours_a_skip_the_policy_marks_skippable(repo: Repo, tmp_path: Path) -> None:
    quiet(repo, "switch", "-q", "develop")
    commit_quiet(repo, ".flowwarden.yaml", "extends: gitflow-ml\nrules:\n"
                                           "  protected-history: {skippable: true}\n")
    server = add_bare_remote(repo, tmp_path / "server.git")
    ref, old, new = direct_on_develop(repo)
    quiet(repo, "push", "-q", "--no-verify", "origin", f"{new}:refs/incoming/x")
    allowed = server.fw("hook", "pre-receive", stdin=f"{old} {new} {ref}\n",
                        env={"FLOWWARDEN_SKIP": "protected-history"})
    assert allowed.code == 0, allowed.text
    assert "waived" in allowed.text.lower() and "protected-history" in allowed.text
