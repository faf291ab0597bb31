"""CI test kit: a server repository, CI clones of it, and the variables GitHub and GitLab set.

The environment variables and event payloads follow GitHub's "Variables" and "Events that
trigger workflows" / webhook payload reference, and GitLab's "Predefined CI/CD variables".
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

from fwkit import HOOKS, Repo, make_repo

ZERO = "0" * 40
OWNER_REPO = "acme/churn-model"


class Server:
    """A bare repository as a git server holds it, and a developer clone pushing to it."""

    def __init__(self, tmp_path: Path, env: Mapping[str, str]) -> None:
        self.bare = tmp_path / "server.git"
        self.dev = make_repo(tmp_path / "dev", env)
        self.env = dict(env)
        self.dev.git("init", "-q", "--bare", str(self.bare))
        self.dev.git("remote", "add", "origin", self.url)
        self.dev.git("push", "-q", "origin", "main", "develop")

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def install_pre_receive(self) -> None:
        shutil.copy(HOOKS / "pre-receive", self.bare / "hooks" / "pre-receive")

    def clone(self, path: Path, *args: str) -> Repo:
        """A CI checkout: every branch as origin/<name>, HEAD detached like actions/checkout."""
        Repo(path.parent, self.env).git("clone", "-q", *args, self.url, path.name)
        return Repo(path, self.env)


def github_pull_request(env: Mapping[str, str], tmp: Path, source: str, target: str,
                        head_sha: str, base_sha: str, commits: int = 1,
                        number: int = 12) -> dict[str, str]:
    """GITHUB_* variables and the `pull_request` event payload for PR #number."""
    payload = {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number, "state": "open", "title": f"Merge {source}",
            "head": {"ref": source, "sha": head_sha, "label": f"acme:{source}",
                     "repo": {"full_name": OWNER_REPO}},
            "base": {"ref": target, "sha": base_sha, "label": f"acme:{target}",
                     "repo": {"full_name": OWNER_REPO}},
            "commits": commits, "merged": False, "draft": False,
        },
        "repository": {"full_name": OWNER_REPO, "default_branch": "main"},
        "sender": {"login": "ada"},
    }
    return _github(env, tmp, "pull_request", payload, {
        "GITHUB_REF": f"refs/pull/{number}/merge", "GITHUB_REF_NAME": f"{number}/merge",
        "GITHUB_HEAD_REF": source, "GITHUB_BASE_REF": target,
    })


def github_push(env: Mapping[str, str], tmp: Path, branch: str, before: str,
                after: str, forced: bool = False) -> dict[str, str]:
    """GITHUB_* variables and the `push` event payload (before/after, created/deleted)."""
    payload = {
        "ref": f"refs/heads/{branch}", "before": before, "after": after,
        "created": before == ZERO, "deleted": after == ZERO, "forced": forced,
        "base_ref": None,
        "compare": f"https://github.com/{OWNER_REPO}/compare/{before[:12]}...{after[:12]}",
        "commits": [], "head_commit": None,
        "pusher": {"name": "ada", "email": "ada@example.com"},
        "repository": {"full_name": OWNER_REPO, "default_branch": "main"},
    }
    return _github(env, tmp, "push", payload, {
        "GITHUB_REF": f"refs/heads/{branch}", "GITHUB_REF_NAME": branch,
        "GITHUB_HEAD_REF": "", "GITHUB_BASE_REF": "", "GITHUB_SHA": after,
    })


def _github(env: Mapping[str, str], tmp: Path, event: str, payload: dict[str, object],
            extra: dict[str, str]) -> dict[str, str]:
    path = tmp / f"{event}-event.json"
    path.write_text(json.dumps(payload))
    summary = tmp / "step-summary.md"
    summary.touch()
    return {**env, "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(path), "GITHUB_REPOSITORY": OWNER_REPO,
            "GITHUB_WORKSPACE": str(tmp), "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_RUN_ID": "4242", "RUNNER_OS": "Linux", **extra}


def gitlab_merge_request(env: Mapping[str, str], source: str, target: str, head_sha: str,
                         diff_base_sha: str, iid: int = 3) -> dict[str, str]:
    """A merge request pipeline (not merged results: the *_BRANCH_SHA variables are empty)."""
    return {**_gitlab(env), "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_IID": str(iid),
            "CI_MERGE_REQUEST_REF_PATH": f"refs/merge-requests/{iid}/head",
            "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": source,
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": target,
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": diff_base_sha,
            "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": "", "CI_MERGE_REQUEST_TARGET_BRANCH_SHA": "",
            "CI_COMMIT_SHA": head_sha, "CI_COMMIT_BEFORE_SHA": ZERO,
            "CI_COMMIT_REF_NAME": source}


def gitlab_push(env: Mapping[str, str], branch: str, before: str, after: str) -> dict[str, str]:
    """A branch pipeline: CI_COMMIT_BEFORE_SHA is all zeros for a new branch."""
    return {**_gitlab(env), "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": branch,
            "CI_COMMIT_REF_NAME": branch, "CI_COMMIT_BEFORE_SHA": before,
            "CI_COMMIT_SHA": after}


def _gitlab(env: Mapping[str, str]) -> dict[str, str]:
    return {**env, "CI": "true", "GITLAB_CI": "true", "CI_SERVER_NAME": "GitLab",
            "CI_PROJECT_PATH": OWNER_REPO, "CI_DEFAULT_BRANCH": "main", "CI_JOB_ID": "77"}
