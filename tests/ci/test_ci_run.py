"""`flowwarden ci` in a CI clone, with the variables and payloads GitHub and GitLab set."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from fwkit import Repo, Result

from .cikit import (
    ZERO,
    Server,
    github_pull_request,
    github_push,
    gitlab_merge_request,
    gitlab_push,
)


def ci(clone: Repo, *args: str, env: dict[str, str] | None = None) -> Result:
    return clone.fw("ci", *args, env=env)


def push_feature(server: Server, name: str = "feature/x", base: str = "develop") -> Repo:
    dev = server.dev
    dev.git("switch", "-q", "-c", name, base)
    dev.commit_file(f"src/{name.replace('/', '_')}.py", "x = 1\n", f"Work on {name}")
    dev.git("push", "-q", "origin", name)
    return dev


def push_release(server: Server, version: str = "1.2.0") -> Repo:
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dev.commit_file("train.py", "epochs = 3\n", "Train for three epochs", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    dev.git("switch", "-q", "-c", f"release/{version}")
    dev.commit_file("VERSION", f"{version}\n", f"Bump version to {version}")
    dev.git("push", "-q", "origin", f"release/{version}")
    return dev


def test_github_pr_from_a_feature_into_main_fails_with_merge_target(
        server: Server, tmp_path: Path) -> None:
    dev = push_feature(server)
    clone = server.clone(tmp_path / "ci")
    clone.git("checkout", "-q", "--detach", dev.sha("feature/x"))
    ci_env = github_pull_request(clone.env, tmp_path, "feature/x", "main",
                                 dev.sha("feature/x"), dev.sha("main"))
    result = ci(clone, env=ci_env)
    assert result.code == 1, result.text
    assert "::error title=merge-target::" in result.out
    assert "feature/x" in result.out and "develop" in result.out
    summary = Path(ci_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("## flowwarden ci: merge of feature/x into main: failed")
    assert "| `merge-target` | 1 | 0 | 0 |" in summary
    assert "flowwarden ci: merge of feature/x into main: failed (1 error)" in result.err


def test_gitlab_mr_from_a_release_into_main_passes(server: Server, tmp_path: Path) -> None:
    dev = push_release(server)
    clone = server.clone(tmp_path / "ci")
    ci_env = gitlab_merge_request(clone.env, "release/1.2.0", "main",
                                  dev.sha("release/1.2.0"), dev.sha("main"))
    report = tmp_path / "gl-code-quality-report.json"
    result = ci(clone, "--report", str(report), env=ci_env)
    assert result.code == 0, result.text
    assert json.loads(report.read_text()) == []
    assert "flowwarden ci: merge of release/1.2.0 into main: passed" in result.err
    assert "judged by the policy of the target branch main" in result.out


def test_github_pr_from_a_release_into_main_passes(server: Server, tmp_path: Path) -> None:
    dev = push_release(server)
    clone = server.clone(tmp_path / "ci")
    ci_env = github_pull_request(clone.env, tmp_path, "release/1.2.0", "main",
                                 dev.sha("release/1.2.0"), dev.sha("main"), commits=2)
    result = ci(clone, env=ci_env)
    assert result.code == 0, result.text
    assert "::error" not in result.out


def test_a_pushed_range_with_a_no_verify_commit_on_develop_fails(
        server: Server, tmp_path: Path) -> None:
    dev = server.dev
    before = dev.sha("develop")
    dev.git("switch", "-q", "develop")
    dev.commit_file("params.yaml", "lr: 0.1\n", "Tune lr", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    clone = server.clone(tmp_path / "ci")
    after = dev.sha("develop")
    for run in (ci(clone, "--range", f"{before}..{after}", "--ref", "develop"),
                ci(clone, env=github_push(clone.env, tmp_path, "develop", before, after)),
                ci(clone, env=gitlab_push(clone.env, "develop", before, after))):
        assert run.code == 1, run.text
        assert "protected-history" in run.out
        assert after[:7] in run.out


def test_a_new_branch_is_judged_by_the_branch_it_must_come_from(
        server: Server, tmp_path: Path) -> None:
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dev.write(".flowwarden.yaml", "version: 1\nextends: gitflow-ml\n")
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "Adopt flowwarden", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    push_feature(server, "feature/y")
    clone = server.clone(tmp_path / "ci")
    result = ci(clone, env=gitlab_push(clone.env, "feature/y", ZERO, dev.sha("feature/y")))
    assert result.code == 0, result.text
    assert "develop, the branch feature/y comes from" in result.out


def test_a_policy_loosened_on_the_pr_branch_does_not_judge_it(
        server: Server, tmp_path: Path) -> None:
    dev = push_feature(server)
    dev.write(".flowwarden.yaml", "version: 1\nextends: gitflow-ml\nbranches:\n"
                                  "  feature:\n    into: [develop, main]\n")
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "Let features merge into main")
    dev.git("push", "-q", "origin", "feature/x")
    clone = server.clone(tmp_path / "ci")
    result = ci(clone, "--source", "feature/x", "--target", "main", "--format", "markdown")
    assert result.code == 1, result.text
    assert "`merge-target`" in result.out
    assert "the incoming commits change .flowwarden.yaml" in result.out


def test_a_shallow_clone_is_deepened_and_the_depth_needed_is_said(
        server: Server, tmp_path: Path) -> None:
    dev = push_feature(server)
    dev.commit_file("src/more.py", "y = 2\n", "More work")
    dev.git("push", "-q", "origin", "feature/x")
    dev.git("switch", "-q", "develop")
    before = dev.sha("develop")
    dev.git("merge", "-q", "--no-ff", "feature/x", "-m", "Merge branch 'feature/x' into develop")
    dev.git("push", "-q", "origin", "develop")
    after = dev.sha("develop")

    shallow = server.clone(tmp_path / "shallow", "--depth", "1", "--no-single-branch")
    refused = ci(shallow, "--no-fetch", "--range", f"{before}..{after}", "--ref", "develop")
    assert refused.code == 2, refused.text
    assert "shallow clone" in refused.err and "git fetch --unshallow origin" in refused.err

    result = ci(shallow, "--range", f"{before}..{after}", "--ref", "develop")
    assert result.code == 0, result.text
    assert "this range needs fetch-depth: 4" in result.out, result.out


def test_outside_ci_without_options_is_a_usage_error(server: Server, tmp_path: Path) -> None:
    clone = server.clone(tmp_path / "ci")
    result = ci(clone)
    assert result.code == 2
    assert "no CI run detected" in result.err and "fix: flowwarden ci --source" in result.err


def adopt_policy(dev: Repo, text: str) -> None:
    """Commit a policy on develop (with --no-verify: the tests judge it in CI)."""
    dev.git("switch", "-q", "develop")
    dev.write(".flowwarden.yaml", text)
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "Merge branch 'feature/policy' into develop", "--no-verify")
    dev.git("push", "-q", "origin", "develop")


WAIVABLE = ("version: 1\nextends: gitflow-ml\n"
            "rules:\n  protected-history: {waivable: true}\n")


def test_a_waiver_trailer_is_honoured_and_counted(server: Server, tmp_path: Path) -> None:
    dev = server.dev
    adopt_policy(dev, WAIVABLE)
    before = dev.sha("develop")
    dev.commit_file("CHANGELOG.md", "1.2.0\n", "Fix the changelog\n\n"
                    "Flowwarden-Waive: protected-history typo fix agreed with the release manager",
                    "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    clone = server.clone(tmp_path / "ci")
    result = ci(clone, "--format", "github",
                env=github_push(clone.env, tmp_path, "develop", before, dev.sha("develop")))
    assert result.code == 0, result.text
    assert "::notice title=protected-history (waived)::" in result.out
    assert "typo fix agreed with the release manager" in result.out
    assert "passed (1 waived)" in result.err


def test_a_waiver_for_a_rule_that_is_not_waivable_does_not_count(
        server: Server, tmp_path: Path) -> None:
    dev = server.dev
    before = dev.sha("develop")
    dev.git("switch", "-q", "develop")
    dev.commit_file("CHANGELOG.md", "1.2.0\n", "Fix the changelog\n\n"
                    "Flowwarden-Waive: protected-history just this once", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    clone = server.clone(tmp_path / "ci")
    result = ci(clone, "--range", f"{before}..{dev.sha('develop')}", "--ref", "develop")
    assert result.code == 1, result.text
    assert "does not let protected-history be waived" in result.out


def test_an_expired_policy_waiver_is_said_and_does_not_count(
        server: Server, tmp_path: Path) -> None:
    dev = server.dev
    adopt_policy(dev, WAIVABLE + "waivers:\n  - {rule: protected-history, "
                                 "reason: migration from svn, expires: '2020-06-30'}\n")
    before = dev.sha("develop")
    dev.commit_file("train.py", "lr = 1\n", "Quick tweak", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    clone = server.clone(tmp_path / "ci")
    result = ci(clone, "--range", f"{before}..{dev.sha('develop')}", "--ref", "develop",
                "--format", "json")
    assert result.code == 1, result.text
    (v,) = [v for v in json.loads(result.out)["violations"] if v["rule"] == "protected-history"]
    assert v["waived_by"] is None
    assert "policy waiver for protected-history expired on 2020-06-30: migration from svn" \
        in v["details"]


def test_checks_run_for_a_merge_request_target(server: Server, tmp_path: Path) -> None:
    dev = server.dev
    script = "import os; print('7 passed'); raise SystemExit(int(os.environ.get('BREAK', '0')))"
    adopt_policy(dev, "version: 1\nextends: gitflow-ml\nchecks:\n"
                      f"  - name: unit tests\n    run: [{json.dumps(sys.executable)}, -c, "
                      f"{json.dumps(script)}]\n    before_merge_into: [develop]\n")
    push_feature(server)
    clone = server.clone(tmp_path / "ci")
    clone.git("checkout", "-q", "--detach", "origin/feature/x")
    passing = ci(clone, "--source", "feature/x", "--target", "develop", "--run-checks")
    assert passing.code == 0, passing.text
    assert "7 passed" in passing.err and "check 'unit tests' passed in" in passing.err
    failing = ci(clone, "--source", "feature/x", "--target", "develop", "--run-checks",
                 "--format", "gitlab", env={"BREAK": "3"})
    assert failing.code == 1, failing.text
    (issue,) = json.loads(failing.out)
    assert issue["check_name"] == "tests-before-merge" and issue["severity"] == "major"
    assert "'unit tests'" in issue["description"] and "exited 3" in issue["description"]


def test_a_new_feature_branch_cut_from_main_fails_branch_origin(
        server: Server, tmp_path: Path) -> None:
    dev = server.dev
    hotfix = push_feature(server, "hotfix/crash", base="main")
    hotfix.git("switch", "-q", "main")
    hotfix.git("merge", "-q", "--no-ff", "hotfix/crash", "-m", "Merge branch 'hotfix/crash'")
    hotfix.git("push", "-q", "origin", "main")
    push_feature(server, "feature/stale", base="main")
    clone = server.clone(tmp_path / "ci")
    result = ci(clone, env=gitlab_push(clone.env, "feature/stale", ZERO,
                                       dev.sha("feature/stale")))
    assert result.code == 1, result.text
    assert "branch-origin: feature/stale carries" in result.out and "from main" in result.out
    assert "develop, the branch feature/stale comes from" in result.out


def test_a_pull_request_in_a_depth_one_checkout_fetches_what_it_needs(
        server: Server, tmp_path: Path) -> None:
    """actions/checkout's default: one commit, no branches; the payload names the shas."""
    dev = push_feature(server)
    dev.commit_file("src/two.py", "2\n", "Second step")
    dev.git("push", "-q", "origin", "feature/x")
    clone_dir = tmp_path / "ci"
    clone_dir.mkdir()
    clone = Repo(clone_dir, server.env)
    clone.git("init", "-q")
    clone.git("remote", "add", "origin", server.url)
    clone.git("fetch", "-q", "--depth=1", "origin", "+refs/heads/feature/x:refs/pull/12/merge")
    clone.git("checkout", "-q", "--detach", "refs/pull/12/merge")
    ci_env = github_pull_request(clone.env, tmp_path, "feature/x", "main",
                                 dev.sha("feature/x"), dev.sha("main"), commits=2)
    result = ci(clone, env=ci_env)
    assert result.code == 1, result.text
    assert "::error title=merge-target::" in result.out
    assert "this range needs fetch-depth: 3" in result.out, result.out


def test_flowwarden_skip_is_ignored_in_ci_unless_the_rule_is_skippable(
        server: Server, tmp_path: Path) -> None:
    dev = push_feature(server)
    clone = server.clone(tmp_path / "ci")
    skip = {"FLOWWARDEN_SKIP": "merge-target"}
    ignored = ci(clone, "--source", "feature/x", "--target", "main", env=skip)
    assert ignored.code == 1, ignored.text
    assert "error: merge-target" in ignored.out

    dev.git("switch", "-q", "main")
    dev.write(".flowwarden.yaml", "version: 1\nextends: gitflow-ml\n"
                                  "rules:\n  merge-target: {skippable: true}\n")
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "Merge branch 'hotfix/skippable'", "--no-verify")
    dev.git("push", "-q", "origin", "main")
    clone.git("fetch", "-q", "origin")
    allowed = ci(clone, "--source", "feature/x", "--target", "main", env=skip)
    assert allowed.code == 0, allowed.text
    assert "waived (FLOWWARDEN_SKIP): merge-target" in allowed.out
    assert "passed (1 waived)" in allowed.err


def test_a_merge_request_fetches_a_target_branch_the_runner_left_out(
        server: Server, tmp_path: Path) -> None:
    dev = push_release(server)
    clone = server.clone(tmp_path / "ci", "--single-branch", "--branch", "release/1.2.0")
    assert "origin/main" not in clone.git("branch", "-r").out
    ci_env = gitlab_merge_request(clone.env, "release/1.2.0", "main",
                                  dev.sha("release/1.2.0"), dev.sha("main"))
    ci_env["CI_MERGE_REQUEST_DIFF_BASE_SHA"] = ""
    result = ci(clone, env=ci_env)
    assert result.code == 0, result.text
    assert f"judged by the policy of the target branch main at {dev.sha('main')[:12]}" \
        in result.out


def test_a_broken_policy_on_the_target_branch_fails_closed(
        server: Server, tmp_path: Path) -> None:
    dev = server.dev
    dev.git("switch", "-q", "main")
    dev.write(".flowwarden.yaml", "version: 1\nextends: gitflow-ml\nbranches: [oops]\n")
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "Merge branch 'hotfix/policy'", "--no-verify")
    dev.git("push", "-q", "origin", "main")
    push_feature(server)
    clone = server.clone(tmp_path / "ci")
    result = ci(clone, "--source", "feature/x", "--target", "main")
    assert result.code == 2, result.text
    assert "policy error" in result.err and ".flowwarden.yaml:3" in result.err


def test_every_commit_of_a_pushed_experiment_branch_is_checked_in_ci(
        server: Server, tmp_path: Path) -> None:
    """The clone's own origin/<branch> already holds the pushed commits: they still count."""
    dev = push_feature(server, "experiment/wide")
    before = dev.sha("experiment/wide")
    dev.commit_file("src/wide.py", "width = 2\n", "Try a wider encoder")
    dev.git("push", "-q", "origin", "experiment/wide")
    clone = server.clone(tmp_path / "ci")
    for run in (ci(clone, env=gitlab_push(clone.env, "experiment/wide", before,
                                          dev.sha("experiment/wide"))),
                ci(clone, env=gitlab_push(clone.env, "experiment/wide", ZERO,
                                          dev.sha("experiment/wide")))):
        assert run.code == 1, run.text
        assert "mlflow-run-id" in run.out and "Try a wider encoder" in run.out
