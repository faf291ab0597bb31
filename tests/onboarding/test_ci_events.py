"""Every event a required check sees, in a real CI clone with the payloads GitHub and GitLab
send: merge queues, merge trains, merged results, tags and branch deletions."""
from __future__ import annotations

import json
from pathlib import Path

from ci.cikit import ZERO, Server, _github, github_push, gitlab_merge_request
from fwkit import Repo, Result


def ci(clone: Repo, env: dict[str, str]) -> Result:
    return clone.fw("ci", "--format", "text", env=env)


def merge_group(env: dict[str, str], tmp: Path, base: str, base_sha: str,
                head_sha: str) -> dict[str, str]:
    """The `merge_group` payload GitHub sends for a merge queue's candidate."""
    head_ref = f"refs/heads/gh-readonly-queue/{base}/pr-12-{base_sha}"
    payload = {"action": "checks_requested",
               "merge_group": {"head_sha": head_sha, "head_ref": head_ref,
                               "base_sha": base_sha, "base_ref": f"refs/heads/{base}",
                               "head_commit": {"id": head_sha, "message": "Merge"}},
               "repository": {"full_name": "acme/models", "default_branch": "main"}}
    return _github(env, tmp, "merge_group", payload,
                   {"GITHUB_REF": head_ref, "GITHUB_SHA": head_sha})


def queue_candidate(server: Server, source: str, target: str, no_verify: bool = False) -> str:
    """What a merge queue pushes to gh-readonly-queue/...: target with the PR merged in."""
    dev = server.dev
    dev.git("switch", "-q", target)
    extra = ("--no-verify",) if no_verify else ()
    dev.git("merge", "-q", "--no-ff", *extra, "-m",
            f"Merge pull request #12 from acme/{source}", source)
    sha = dev.sha()
    dev.git("push", "-q", "origin", f"HEAD:refs/heads/gh-readonly-queue/{target}/pr-12")
    dev.git("reset", "-q", "--hard", "HEAD~1")
    return sha


def feature(server: Server, name: str = "feature/x", base: str = "develop") -> Repo:
    dev = server.dev
    dev.git("switch", "-q", "-c", name, base)
    dev.commit_file(f"src/{name.replace('/', '_')}.py", "x = 1\n", f"Work on {name}")
    dev.git("push", "-q", "origin", name)
    return dev


def test_a_merge_queue_candidate_of_a_feature_into_develop_passes(
        server: Server, tmp_path: Path) -> None:
    dev = feature(server)
    head = queue_candidate(server, "feature/x", "develop")
    clone = server.clone(tmp_path / "ci")
    result = ci(clone, merge_group(clone.env, tmp_path, "develop", dev.sha("develop"), head))
    assert result.code == 0, result.text
    assert "merge queue" in result.err and "passed" in result.err


def test_a_merge_queue_candidate_of_a_feature_into_main_fails(
        server: Server, tmp_path: Path) -> None:
    dev = feature(server)
    head = queue_candidate(server, "feature/x", "main", no_verify=True)
    clone = server.clone(tmp_path / "ci")
    result = ci(clone, merge_group(clone.env, tmp_path, "main", dev.sha("main"), head))
    assert result.code == 1, result.text
    assert "merge queue" in result.err
    assert "feature/x" in result.out and ("protected-history" in result.out
                                          or "merge-target" in result.out)


def test_a_gitlab_merge_train_is_judged_as_its_merge_request(
        server: Server, tmp_path: Path) -> None:
    dev = feature(server)
    clone = server.clone(tmp_path / "ci")
    env = {**gitlab_merge_request(clone.env, "feature/x", "main", dev.sha("feature/x"),
                                  dev.sha("main")),
           "CI_MERGE_REQUEST_EVENT_TYPE": "merge_train"}
    result = ci(clone, env)
    assert result.code == 1, result.text
    assert "merge-target" in result.out
    assert "retarget the merge request from feature/x to develop" in result.out
    assert "pull request" not in result.out + result.err
    assert "merge request" in result.err and "merge train" in result.err


def test_a_gitlab_merged_results_pipeline_of_a_good_request_passes(
        server: Server, tmp_path: Path) -> None:
    dev = feature(server)
    clone = server.clone(tmp_path / "ci")
    env = {**gitlab_merge_request(clone.env, "feature/x", "develop", "f" * 40,
                                  dev.sha("develop")),
           "CI_MERGE_REQUEST_EVENT_TYPE": "merged_result",
           "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": dev.sha("feature/x"),
           "CI_MERGE_REQUEST_TARGET_BRANCH_SHA": dev.sha("develop")}
    result = ci(clone, env)
    assert result.code == 0, result.text
    assert "merged results" in result.err


def test_a_tag_push_is_judged_as_a_tag(server: Server, tmp_path: Path) -> None:
    dev = server.dev
    dev.git("tag", "-a", "-m", "v1.0.0", "v1.0.0", "main")
    dev.git("push", "-q", "origin", "v1.0.0")
    clone = server.clone(tmp_path / "ci")
    env = {**github_push(clone.env, tmp_path, "main", ZERO, dev.sha("main")),
           "GITHUB_REF": "refs/tags/v1.0.0"}
    payload = json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text())
    payload["ref"] = "refs/tags/v1.0.0"
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps(payload))
    result = ci(clone, env)
    assert result.code == 0, result.text
    assert "tag v1.0.0" in result.err
    assert "branch-name" not in result.out


def test_a_gitlab_tag_pipeline_is_judged_as_a_tag(server: Server, tmp_path: Path) -> None:
    dev = server.dev
    dev.git("tag", "v1.0.0", "main")
    dev.git("push", "-q", "origin", "v1.0.0")
    clone = server.clone(tmp_path / "ci")
    env = {**clone.env, "CI": "true", "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push",
           "CI_COMMIT_TAG": "v1.0.0", "CI_COMMIT_REF_NAME": "v1.0.0",
           "CI_COMMIT_BEFORE_SHA": ZERO, "CI_COMMIT_SHA": dev.sha("main")}
    result = ci(clone, env)
    assert result.code == 0, result.text
    assert "tag v1.0.0" in result.err


def test_a_pushed_deletion_of_an_unmerged_release_fails(server: Server,
                                                        tmp_path: Path) -> None:
    dev = server.dev
    dev.git("switch", "-q", "-c", "release/1.0.0", "develop")
    dev.commit_file("VERSION", "1.0.0\n", "Bump version to 1.0.0")
    dev.git("push", "-q", "origin", "release/1.0.0")
    tip = dev.sha()
    clone = server.clone(tmp_path / "ci")
    dev.git("push", "-q", "--no-verify", "origin", "--delete", "release/1.0.0")
    result = ci(clone, github_push(clone.env, tmp_path, "release/1.0.0", tip, ZERO))
    assert result.code == 1, result.text
    assert "branch-delete" in result.out and "deletion of release/1.0.0" in result.err


def test_a_github_delete_event_of_a_protected_branch_fails(server: Server,
                                                           tmp_path: Path) -> None:
    clone = server.clone(tmp_path / "ci")
    payload = {"ref": "develop", "ref_type": "branch", "pusher_type": "user",
               "repository": {"full_name": "acme/models", "default_branch": "main"}}
    env = _github(clone.env, tmp_path, "delete", payload,
                  {"GITHUB_REF": "refs/heads/main", "GITHUB_SHA": clone.sha("origin/main")})
    result = ci(clone, env)
    assert result.code == 1, result.text
    assert "branch-delete" in result.out and "develop is protected" in result.out


def test_a_github_delete_event_of_a_release_says_what_it_cannot_check(
        server: Server, tmp_path: Path) -> None:
    clone = server.clone(tmp_path / "ci")
    payload = {"ref": "release/1.0.0", "ref_type": "branch", "pusher_type": "user",
               "repository": {"full_name": "acme/models", "default_branch": "main"}}
    env = _github(clone.env, tmp_path, "delete", payload,
                  {"GITHUB_REF": "refs/heads/main", "GITHUB_SHA": clone.sha("origin/main")})
    result = ci(clone, env)
    assert result.code == 0, result.text
    assert "does not say which commit release/1.0.0 pointed at" in result.out
