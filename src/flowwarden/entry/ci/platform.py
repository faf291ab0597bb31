"""What the CI platform says: a pull/merge request or a pushed range, from options, GitHub
Actions' variables and event payload, or GitLab CI's variables."""
from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flowwarden.core.errors import UsageError
from flowwarden.core.records import ZERO_SHA


@dataclass(frozen=True)
class MergeRequest:
    """A pull request (GitHub) or merge request (GitLab): `source` into `target`."""

    provider: str
    source: str
    target: str
    source_sha: str | None = None
    target_sha: str | None = None
    base_sha: str | None = None  # the merge base the platform computed, if it says
    fetch_refs: tuple[str, ...] = ()  # refs that hold the request's commits on the server
    commits: int | None = None  # how many commits the platform counts in the request
    via: str = ""  # how the platform runs it: "merge train", "merged results", ""


@dataclass(frozen=True)
class PushRange:
    """A push: `ref` moved from `before` (ZERO_SHA: created) to `after` (ZERO_SHA: deleted)."""

    provider: str
    ref: str
    before: str
    after: str
    fetch_refs: tuple[str, ...] = ()
    via: str = ""  # "merge queue": what a merge group would make of the ref; "tag"; ""

    @property
    def branch(self) -> str:
        return self.ref.removeprefix("refs/heads/")

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith("refs/tags/")


Request = MergeRequest | PushRange


def detect(args: argparse.Namespace, env: Mapping[str, str]) -> Request:
    """Explicit options first, then GitHub Actions, then GitLab CI."""
    if args.source or args.target:
        if not (args.source and args.target):
            raise UsageError("--source and --target go together",
                          "flowwarden ci --source feature/x --target develop")
        return MergeRequest("explicit", args.source, args.target)
    if args.range:
        before, sep, after = args.range.partition("..")
        if not sep or not after:
            raise UsageError(f"--range {args.range!r} is not A..B",
                          "flowwarden ci --range <before>..<after> --ref refs/heads/develop")
        return PushRange("explicit", _full_ref(args.ref) if args.ref else "", before or ZERO_SHA,
                         after)
    if env.get("GITHUB_ACTIONS") == "true":
        return from_github(env)
    if env.get("GITLAB_CI") == "true":
        return from_gitlab(env)
    raise UsageError("no CI run detected (neither GITHUB_ACTIONS nor GITLAB_CI is set) and no "
                  "--source/--target or --range given",
                  "flowwarden ci --source <branch> --target <branch>  "
                  "# or --range <before>..<after> --ref <branch>")


def _full_ref(name: str) -> str:
    return name if name.startswith("refs/") else f"refs/heads/{name}"


def _payload(env: Mapping[str, str]) -> dict[str, object]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read the event payload GITHUB_EVENT_PATH={path}: {error}",
                      "run flowwarden ci inside the GitHub Actions job that the event started"
                      ) from error
    return data if isinstance(data, dict) else {}


def _get(data: object, *keys: str) -> object:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def from_github(env: Mapping[str, str]) -> Request:
    """Every event a required check sees: pull_request, push (tags and deletions included),
    merge_group (a merge queue), and delete."""
    event = env.get("GITHUB_EVENT_NAME", "")
    payload = _payload(env)
    if event in ("pull_request", "pull_request_target"):
        return _github_pull_request(event, env, payload)
    if event == "push":
        ref = _str(payload.get("ref")) or env.get("GITHUB_REF", "")
        after = _str(payload.get("after")) or env.get("GITHUB_SHA", "")
        before = _str(payload.get("before")) or ZERO_SHA
        if payload.get("deleted") is True:
            after = ZERO_SHA
        if not ref or not after:
            raise UsageError("GitHub push event without ref/after in GITHUB_EVENT_PATH",
                             "run flowwarden ci in a job triggered by push")
        return PushRange("github", ref, before, after, via=_tag(ref))
    if event == "merge_group":
        return _github_merge_group(payload)
    if event == "delete":
        return _github_delete(payload)
    raise UsageError(f"GitHub event '{event}' is not one flowwarden judges (pull_request, "
                     "push, merge_group, delete)",
                     "trigger the flowwarden job on: [pull_request, push, merge_group]")


def _tag(ref: str) -> str:
    return "tag" if ref.startswith("refs/tags/") else ""


def _github_pull_request(event: str, env: Mapping[str, str],
                         payload: dict[str, object]) -> MergeRequest:
    source = env.get("GITHUB_HEAD_REF") or _str(_get(payload, "pull_request", "head", "ref"))
    target = env.get("GITHUB_BASE_REF") or _str(_get(payload, "pull_request", "base", "ref"))
    if not source or not target:
        raise UsageError(f"GitHub {event} event without GITHUB_HEAD_REF/GITHUB_BASE_REF",
                         "run flowwarden ci in a job triggered by pull_request")
    count = _get(payload, "pull_request", "commits")
    number = _get(payload, "pull_request", "number") or _get(payload, "number")
    refs = (f"refs/pull/{number}/head",) if isinstance(number, int) else ()
    return MergeRequest("github", source, target,
                        _str(_get(payload, "pull_request", "head", "sha")),
                        _str(_get(payload, "pull_request", "base", "sha")),
                        fetch_refs=refs, commits=count if isinstance(count, int) else None)


def _github_merge_group(payload: dict[str, object]) -> PushRange:
    """A merge queue's candidate: base_sha..head_sha is exactly what the queue will put on
    the base branch, so it is judged as that push (the policy of the base before it)."""
    base_ref = _str(_get(payload, "merge_group", "base_ref"))
    base_sha = _str(_get(payload, "merge_group", "base_sha"))
    head_ref = _str(_get(payload, "merge_group", "head_ref"))
    head_sha = _str(_get(payload, "merge_group", "head_sha"))
    if not (base_ref and base_sha and head_sha):
        raise UsageError("GitHub merge_group event without merge_group.base_ref, base_sha "
                         "and head_sha in GITHUB_EVENT_PATH",
                         "run flowwarden ci in a job triggered by merge_group")
    return PushRange("github", _full_ref(base_ref), base_sha, head_sha,
                     (head_ref,) if head_ref else (), via="merge queue")


def _github_delete(payload: dict[str, object]) -> PushRange:
    """`delete` names the ref but not its tip: the deletion is judged by name (a protected
    branch), and the tip is looked up in the clone when it is still there."""
    name = _str(payload.get("ref"))
    if not name:
        raise UsageError("GitHub delete event without ref in GITHUB_EVENT_PATH",
                         "run flowwarden ci in a job triggered by delete")
    prefix = "refs/tags/" if payload.get("ref_type") == "tag" else "refs/heads/"
    ref = name if name.startswith("refs/") else prefix + name
    return PushRange("github", ref, ZERO_SHA, ZERO_SHA, via="deletion")


_GITLAB_MR_KINDS = {"merge_train": "merge train", "merged_result": "merged results"}


def from_gitlab(env: Mapping[str, str]) -> Request:
    """Merge request pipelines (detached, merged results, merge trains): source -> target;
    branch and tag pipelines: before -> commit."""
    source = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
    if source:
        target = env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "")
        # In merged-results and merge-train pipelines CI_COMMIT_SHA is the merge GitLab made;
        # the source head is CI_MERGE_REQUEST_SOURCE_BRANCH_SHA.
        head = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA") or env.get("CI_COMMIT_SHA")
        ref = env.get("CI_MERGE_REQUEST_REF_PATH")
        kind = env.get("CI_MERGE_REQUEST_EVENT_TYPE", "")
        return MergeRequest("gitlab", source, target, head or None,
                            env.get("CI_MERGE_REQUEST_TARGET_BRANCH_SHA") or None,
                            env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA") or None,
                            fetch_refs=(ref,) if ref else (), via=_GITLAB_MR_KINDS.get(kind, ""))
    after = env.get("CI_COMMIT_SHA")
    name = env.get("CI_COMMIT_TAG") or env.get("CI_COMMIT_BRANCH") \
        or env.get("CI_COMMIT_REF_NAME")
    if not after or not name:
        raise UsageError("GitLab pipeline without CI_COMMIT_SHA and CI_COMMIT_REF_NAME",
                         "run flowwarden ci in a branch, tag or merge request pipeline")
    ref = f"refs/tags/{name}" if env.get("CI_COMMIT_TAG") else _full_ref(name)
    return PushRange("gitlab", ref, env.get("CI_COMMIT_BEFORE_SHA") or ZERO_SHA, after,
                     via=_tag(ref))
