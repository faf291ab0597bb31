"""What `flowwarden ci` reads from GitHub Actions and GitLab CI variables and payloads."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from flowwarden.core.errors import UsageError
from flowwarden.entry.ci import MergeRequest, PushRange, detect, parser

from .cikit import (
    ZERO,
    github_pull_request,
    github_push,
    gitlab_merge_request,
    gitlab_push,
)

HEAD = "a" * 40
BASE = "b" * 40


def args(*argv: str) -> argparse.Namespace:
    return parser().parse_args(list(argv))


def test_github_pull_request_reads_head_and_base(tmp_path: Path, env: dict[str, str]) -> None:
    ci_env = github_pull_request(env, tmp_path, "feature/x", "main", HEAD, BASE, commits=3)
    request = detect(args(), ci_env)
    assert request == MergeRequest("github", "feature/x", "main", HEAD, BASE,
                                   fetch_refs=("refs/pull/12/head",), commits=3)


def test_github_push_reads_before_and_after_from_the_payload(tmp_path: Path,
                                                             env: dict[str, str]) -> None:
    ci_env = github_push(env, tmp_path, "develop", BASE, HEAD)
    assert detect(args(), ci_env) == PushRange("github", "refs/heads/develop", BASE, HEAD)


def test_github_other_events_are_refused_with_the_trigger_to_use(
        tmp_path: Path, env: dict[str, str]) -> None:
    ci_env = {**github_push(env, tmp_path, "develop", BASE, HEAD),
              "GITHUB_EVENT_NAME": "workflow_dispatch"}
    with pytest.raises(UsageError, match="workflow_dispatch") as error:
        detect(args(), ci_env)
    assert "pull_request" in error.value.fix


def test_gitlab_merge_request(env: dict[str, str]) -> None:
    ci_env = gitlab_merge_request(env, "release/1.2.0", "main", HEAD, BASE)
    assert detect(args(), ci_env) == MergeRequest(
        "gitlab", "release/1.2.0", "main", HEAD, None, BASE,
        fetch_refs=("refs/merge-requests/3/head",))


def test_gitlab_merged_results_pipeline_uses_the_source_branch_sha(env: dict[str, str]) -> None:
    ci_env = {**gitlab_merge_request(env, "feature/x", "develop", "c" * 40, BASE),
              "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": HEAD,
              "CI_MERGE_REQUEST_TARGET_BRANCH_SHA": "d" * 40}
    request = detect(args(), ci_env)
    assert isinstance(request, MergeRequest)
    assert (request.source_sha, request.target_sha) == (HEAD, "d" * 40)


def test_gitlab_branch_pipeline_and_new_branch(env: dict[str, str]) -> None:
    assert detect(args(), gitlab_push(env, "develop", BASE, HEAD)) == \
        PushRange("gitlab", "refs/heads/develop", BASE, HEAD)
    created = detect(args(), gitlab_push(env, "feature/y", ZERO, HEAD))
    assert isinstance(created, PushRange) and created.before == ZERO


def test_explicit_options_win_over_the_environment(tmp_path: Path, env: dict[str, str]) -> None:
    ci_env = github_push(env, tmp_path, "develop", BASE, HEAD)
    assert detect(args("--source", "hotfix/x", "--target", "main"), ci_env) == \
        MergeRequest("explicit", "hotfix/x", "main")
    assert detect(args("--range", f"{BASE}..{HEAD}", "--ref", "develop"), ci_env) == \
        PushRange("explicit", "refs/heads/develop", BASE, HEAD)


def test_nothing_detected_says_which_options_to_pass(env: dict[str, str]) -> None:
    with pytest.raises(UsageError, match="no CI run detected") as error:
        detect(args(), env)
    assert "--source" in error.value.fix and "--range" in error.value.fix
    with pytest.raises(UsageError, match="--source and --target go together"):
        detect(args("--source", "feature/x"), env)
