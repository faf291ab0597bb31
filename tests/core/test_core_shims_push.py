"""Push-time rules: pre-push against a bare file:// remote, and pre-receive on a bare server
repository (pushes made with --no-verify so only the server decides). Scenarios over
`hooked_pushed` run under both install modes; multi-ref pushes and deletions under the shims,
which see every ref (the framework does not: test_core_precommit)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from corekit import (
    add_bare_remote,
    assert_blocked,
    assert_passes,
    branch_with_commit,
    commit_quiet,
    merge_quiet,
    quiet,
    remote_sha,
)

from fwkit import HOOKS, Repo, Result


@dataclass(frozen=True)
class Pushed:
    """A clone with shims and its bare remote `origin`, main and develop already pushed."""

    local: Repo
    origin: Repo

    def push(self, *args: str) -> Result:
        return self.local.git("push", "origin", *args, check=False)

    def publish(self, *refs: str) -> None:
        quiet(self.local, "push", "-q", "--no-verify", "origin", *refs)


@pytest.fixture
def pushed(shim_repo: Repo, tmp_path: Path) -> Pushed:
    return Pushed(shim_repo, add_bare_remote(shim_repo, tmp_path / "origin.git"))


@pytest.fixture
def hooked_pushed(hooked_repo: Repo, tmp_path: Path) -> Pushed:
    """`pushed` under either install mode. The framework runs pre-push once, for the first ref
    with new commits, and never for deletions (test_core_precommit): scenarios here push one
    ref with new commits."""
    return Pushed(hooked_repo, add_bare_remote(hooked_repo, tmp_path / "origin.git"))


def develop_with_feature(p: Pushed, name: str = "feature/a") -> str:
    """develop gains a merged feature (a develop-only commit), published to origin."""
    branch_with_commit(p.local, name, "develop")
    tip = merge_quiet(p.local, "develop", name)
    p.publish("develop")
    return tip


# --- branch-origin -----------------------------------------------------------------------


def test_hotfix_branched_from_develop_is_refused_at_push(hooked_pushed: Pushed) -> None:
    develop_with_feature(hooked_pushed)
    branch_with_commit(hooked_pushed.local, "hotfix/crash", "develop")
    result = hooked_pushed.push("hotfix/crash")
    assert_blocked(result, "branch-origin", "hotfix/crash")
    assert remote_sha(hooked_pushed.origin, "hotfix/crash") is None


def test_hotfix_branched_from_main_is_pushed(pushed: Pushed) -> None:
    develop_with_feature(pushed)
    tip = branch_with_commit(pushed.local, "hotfix/crash", "main")
    assert_passes(pushed.push("hotfix/crash"))
    assert remote_sha(pushed.origin, "hotfix/crash") == tip


def test_feature_carrying_main_only_commits_is_refused_at_push(pushed: Pushed) -> None:
    branch_with_commit(pushed.local, "hotfix/h", "main")
    merge_quiet(pushed.local, "main", "hotfix/h")
    pushed.publish("main")
    branch_with_commit(pushed.local, "feature/y", "main")
    result = pushed.push("feature/y")
    assert_blocked(result, "branch-origin", "feature/y")
    assert remote_sha(pushed.origin, "feature/y") is None


def test_feature_from_develop_is_pushed(hooked_pushed: Pushed) -> None:
    develop_with_feature(hooked_pushed)
    tip = branch_with_commit(hooked_pushed.local, "feature/b", "develop")
    assert_passes(hooked_pushed.push("-u", "feature/b"))
    assert remote_sha(hooked_pushed.origin, "feature/b") == tip


def test_new_branch_with_illegal_name_is_refused_at_push(pushed: Pushed) -> None:
    branch_with_commit(pushed.local, "Feature_B", "develop")
    assert_blocked(pushed.push("Feature_B"), "branch-name", "Feature_B")
    assert remote_sha(pushed.origin, "Feature_B") is None


# --- force-push and branch-delete ----------------------------------------------------------


def test_force_push_of_main_is_refused(pushed: Pushed) -> None:
    published = remote_sha(pushed.origin, "main")
    quiet(pushed.local, "switch", "-q", "main")
    quiet(pushed.local, "commit", "-q", "--amend", "-m", "Rewritten initial commit")
    result = pushed.push("--force", "main")
    assert_blocked(result, "force-push", "main")
    assert remote_sha(pushed.origin, "main") == published


def test_force_push_of_a_feature_branch_passes(pushed: Pushed) -> None:
    branch_with_commit(pushed.local, "feature/f", "develop")
    pushed.publish("feature/f")
    quiet(pushed.local, "commit", "-q", "--amend", "-m", "Reworded")
    assert_passes(pushed.push("--force", "feature/f"))
    assert remote_sha(pushed.origin, "feature/f") == pushed.local.sha("feature/f")


@pytest.mark.parametrize("branch", ["main", "develop"])
def test_deleting_a_protected_branch_is_refused(pushed: Pushed, branch: str) -> None:
    result = pushed.push("--delete", branch)
    assert_blocked(result, "branch-delete", branch)
    assert remote_sha(pushed.origin, branch) is not None


def release_on_main_only(p: Pushed) -> None:
    branch_with_commit(p.local, "release/1.0.0", "develop")
    p.publish("release/1.0.0")
    merge_quiet(p.local, "main", "release/1.0.0")
    p.publish("main")


def test_deleting_a_release_before_it_reached_develop_is_refused(pushed: Pushed) -> None:
    release_on_main_only(pushed)
    result = pushed.push("--delete", "release/1.0.0")
    assert_blocked(result, "branch-delete", "release/1.0.0", "develop")
    assert remote_sha(pushed.origin, "release/1.0.0") is not None


def test_deleting_a_release_that_reached_main_and_develop_passes(pushed: Pushed) -> None:
    release_on_main_only(pushed)
    merge_quiet(pushed.local, "develop", "release/1.0.0")
    pushed.publish("develop")
    assert_passes(pushed.push("--delete", "release/1.0.0"))
    assert remote_sha(pushed.origin, "release/1.0.0") is None


def test_deleting_an_unmerged_hotfix_is_refused(pushed: Pushed) -> None:
    branch_with_commit(pushed.local, "hotfix/h", "main")
    pushed.publish("hotfix/h")
    assert_blocked(pushed.push("--delete", "hotfix/h"), "branch-delete", "hotfix/h")


def test_deleting_a_feature_branch_passes(pushed: Pushed) -> None:
    branch_with_commit(pushed.local, "feature/gone", "develop")
    pushed.publish("feature/gone")
    assert_passes(pushed.push("--delete", "feature/gone"))
    assert remote_sha(pushed.origin, "feature/gone") is None


# --- protected-history ---------------------------------------------------------------------


def test_fast_forward_of_develop_into_main_is_refused_at_push(hooked_pushed: Pushed) -> None:
    develop_with_feature(hooked_pushed)
    published = remote_sha(hooked_pushed.origin, "main")
    merge_quiet(hooked_pushed.local, "main", "develop", ff=True)
    result = hooked_pushed.push("main")
    assert_blocked(result, "protected-history", "main")
    assert remote_sha(hooked_pushed.origin, "main") == published


def test_no_verify_commit_on_develop_is_refused_at_push(hooked_pushed: Pushed) -> None:
    quiet(hooked_pushed.local, "switch", "-q", "develop")
    hooked_pushed.local.write("hack.py", "x = 1\n")
    hooked_pushed.local.git("add", "hack.py")
    hooked_pushed.local.git("commit", "-q", "--no-verify", "-m", "Quick fix")
    published = remote_sha(hooked_pushed.origin, "develop")
    result = hooked_pushed.push("develop")
    assert_blocked(result, "protected-history", "develop")
    assert remote_sha(hooked_pushed.origin, "develop") == published


def test_merged_feature_on_develop_is_pushed(pushed: Pushed) -> None:
    branch_with_commit(pushed.local, "feature/a", "develop")
    tip = merge_quiet(pushed.local, "develop", "feature/a")
    assert_passes(pushed.push("develop"))
    assert remote_sha(pushed.origin, "develop") == tip


def test_release_merge_on_main_is_pushed(pushed: Pushed) -> None:
    branch_with_commit(pushed.local, "release/1.1.0", "develop")
    assert_passes(pushed.push("release/1.1.0"))  # the evidence of where main's merge came from
    tip = merge_quiet(pushed.local, "main", "release/1.1.0")
    assert_passes(pushed.push("main"))
    assert remote_sha(pushed.origin, "main") == tip


def test_one_bad_ref_refuses_the_whole_push(pushed: Pushed) -> None:
    good = branch_with_commit(pushed.local, "feature/ok", "develop")
    quiet(pushed.local, "switch", "-q", "develop")
    quiet(pushed.local, "commit", "-q", "--allow-empty", "-m", "Direct commit")
    result = pushed.push("feature/ok", "develop")
    assert_blocked(result, "protected-history", "develop")
    assert remote_sha(pushed.origin, "feature/ok") is None, good


MESSAGES = {
    "git": ("develop", "feature/x", "Merge branch 'feature/x' into develop"),
    "git-remote": ("develop", "feature/x", "Merge remote-tracking branch 'origin/feature/x' "
                                           "into develop"),
    "github": ("develop", "feature/x", "Merge pull request #12 from owner/feature/x"),
    "gitlab": ("develop", "feature/x", "Merge branch 'feature/x' into 'develop'"),
    "git-main": ("main", "release/1.2.0", "Merge branch 'release/1.2.0'"),
    "github-main": ("main", "release/1.2.0", "Merge pull request #13 from owner/release/1.2.0"),
    "gitlab-main": ("main", "hotfix/crash", "Merge branch 'hotfix/crash' into 'main'"),
}


@pytest.mark.parametrize("style", sorted(MESSAGES))
def test_merge_messages_of_legal_merges_are_understood_at_push(pushed: Pushed,
                                                               style: str) -> None:
    target, source, message = MESSAGES[style]
    branch_with_commit(pushed.local, source, "main" if source.startswith("hotfix/") else "develop")
    assert_passes(pushed.push(source))  # the evidence of where the merge came from
    tip = merge_quiet(pushed.local, target, source, message)
    assert_passes(pushed.push(target))
    assert remote_sha(pushed.origin, target) == tip


@pytest.mark.parametrize("message", [
    "Merge pull request #12 from owner/feature/x",
    "Merge branch 'feature/x' into 'main'",
    "Merge branch 'feature/x'",
])
def test_feature_merge_messages_on_main_are_refused_at_push(pushed: Pushed,
                                                           message: str) -> None:
    branch_with_commit(pushed.local, "feature/x", "develop")
    merge_quiet(pushed.local, "main", "feature/x", message)
    published = remote_sha(pushed.origin, "main")
    assert_blocked(pushed.push("main"), "protected-history", "main")
    assert remote_sha(pushed.origin, "main") == published


# --- pre-receive on a bare server ----------------------------------------------------------


@pytest.fixture
def server(repo: Repo, tmp_path: Path) -> Pushed:
    """A clone without local hooks pushing to a bare server that runs the pre-receive shim."""
    origin = add_bare_remote(repo, tmp_path / "server.git", server_hooks=True)
    return Pushed(repo, origin)


def server_push(p: Pushed, *args: str) -> Result:
    return p.local.git("push", "--no-verify", "origin", *args, check=False)


def test_server_refuses_a_direct_commit_on_develop(server: Pushed) -> None:
    quiet(server.local, "switch", "-q", "develop")
    commit_quiet(server.local, "hack.py")
    published = remote_sha(server.origin, "develop")
    result = server_push(server, "develop")
    assert_blocked(result, "protected-history", "develop")
    assert "declined" in result.text
    assert remote_sha(server.origin, "develop") == published


def test_server_refuses_a_force_push_of_main(server: Pushed) -> None:
    published = remote_sha(server.origin, "main")
    quiet(server.local, "switch", "-q", "main")
    quiet(server.local, "commit", "-q", "--amend", "-m", "Rewritten")
    assert_blocked(server_push(server, "--force", "main"), "force-push", "main")
    assert remote_sha(server.origin, "main") == published


def test_server_refuses_deleting_main(server: Pushed) -> None:
    assert_blocked(server_push(server, "--delete", "main"), "branch-delete", "main")
    assert remote_sha(server.origin, "main") is not None


def test_server_refuses_a_hotfix_from_develop(server: Pushed) -> None:
    branch_with_commit(server.local, "feature/a", "develop")
    merge_quiet(server.local, "develop", "feature/a")
    server_push(server, "develop")
    branch_with_commit(server.local, "hotfix/crash", "develop")
    assert_blocked(server_push(server, "hotfix/crash"), "branch-origin", "hotfix/crash")


def test_server_accepts_the_legal_flow(server: Pushed) -> None:
    branch_with_commit(server.local, "feature/a", "develop")
    assert_passes(server_push(server, "feature/a"))
    merge_quiet(server.local, "develop", "feature/a",
                "Merge pull request #1 from owner/feature/a")
    assert_passes(server_push(server, "develop"))
    branch_with_commit(server.local, "release/1.0.0", "develop")
    merge_quiet(server.local, "main", "release/1.0.0")
    merge_quiet(server.local, "develop", "release/1.0.0")
    assert_passes(server_push(server, "release/1.0.0", "main", "develop"))
    assert_passes(server_push(server, "--delete", "release/1.0.0"))
    assert remote_sha(server.origin, "main") == server.local.sha("main")


def stale_clone(p: Pushed, tmp_path: Path, branch: str) -> Repo:
    """A second clone moves `branch` on origin; `p.local` never fetches it."""
    other = Repo(tmp_path / "other", p.local.env)
    p.local.git("clone", "-q", p.origin.path.as_uri(), str(other.path))
    quiet(other, "switch", "-q", branch)
    commit_quiet(other, "theirs.txt")
    quiet(other, "push", "-q", "--no-verify", "origin", branch)
    return other


def test_force_push_over_an_unfetched_main_is_refused(pushed: Pushed, tmp_path: Path) -> None:
    """The remote's tip is unknown locally: force-push must still refuse, not crash."""
    stale_clone(pushed, tmp_path, "main")
    published = remote_sha(pushed.origin, "main")
    quiet(pushed.local, "switch", "-q", "main")
    commit_quiet(pushed.local, "mine.txt")
    result = pushed.push("--force", "main")
    assert_blocked(result, "force-push", "main")
    assert remote_sha(pushed.origin, "main") == published


def test_force_push_of_a_feature_over_an_unfetched_tip_passes(pushed: Pushed,
                                                              tmp_path: Path) -> None:
    branch_with_commit(pushed.local, "feature/f", "develop")
    pushed.publish("feature/f")
    stale_clone(pushed, tmp_path, "feature/f")
    quiet(pushed.local, "switch", "-q", "feature/f")
    commit_quiet(pushed.local, "mine.txt")
    assert_passes(pushed.push("--force", "feature/f"))
    assert remote_sha(pushed.origin, "feature/f") == pushed.local.sha("feature/f")


def test_server_refuses_an_illegal_branch_name(server: Pushed) -> None:
    branch_with_commit(server.local, "Feature_B", "develop")
    assert_blocked(server_push(server, "Feature_B"), "branch-name", "Feature_B")
    assert remote_sha(server.origin, "Feature_B") is None


def test_server_refuses_deleting_a_release_not_yet_in_develop(server: Pushed) -> None:
    branch_with_commit(server.local, "release/1.0.0", "develop")
    merge_quiet(server.local, "main", "release/1.0.0")
    assert_passes(server_push(server, "release/1.0.0", "main"))
    result = server_push(server, "--delete", "release/1.0.0")
    assert_blocked(result, "branch-delete", "release/1.0.0", "develop")
    assert remote_sha(server.origin, "release/1.0.0") is not None


def test_server_judges_by_the_policy_already_on_the_branch(server: Pushed) -> None:
    """A push cannot switch the rule off that judges it: the incoming policy waits its turn."""
    quiet(server.local, "switch", "-q", "develop")
    commit_quiet(server.local, ".flowwarden.yaml",
                 "extends: gitflow-ml\nrules:\n  protected-history: {severity: 'off'}\n")
    published = remote_sha(server.origin, "develop")
    result = server_push(server, "develop")
    assert_blocked(result, "protected-history", "develop")
    assert ".flowwarden.yaml" in result.text
    assert remote_sha(server.origin, "develop") == published


def test_server_reads_custom_kinds_from_the_committed_policy(server: Pushed) -> None:
    """A kind added to develop's committed policy is usable on develop's side of the flow."""
    quiet(server.local, "switch", "-q", "develop")
    branch_with_commit(server.local, "feature/policy", "develop", ".flowwarden.yaml")
    server.local.write(".flowwarden.yaml", (
        "extends: gitflow-ml\nbranches:\n  bugfix:\n    pattern: \"bugfix/[a-z0-9._-]+\"\n"
        "    from: [develop]\n    into: [develop]\n"))
    quiet(server.local, "commit", "-qam", "Add the bugfix kind")
    merge_quiet(server.local, "develop", "feature/policy")
    assert_passes(server_push(server, "develop"))
    branch_with_commit(server.local, "bugfix/typo", "develop")
    assert_passes(server_push(server, "bugfix/typo"))
    branch_with_commit(server.local, "Bugfix_Typo", "develop")
    assert_blocked(server_push(server, "Bugfix_Typo"), "branch-name")


def test_cherry_picked_commit_on_develop_is_refused_at_push(pushed: Pushed) -> None:
    tip = branch_with_commit(pushed.local, "feature/x", "develop")
    quiet(pushed.local, "switch", "-q", "develop")
    quiet(pushed.local, "cherry-pick", tip)
    assert_blocked(pushed.push("develop"), "protected-history", "develop")


def test_feature_pushed_straight_onto_develop_is_refused(pushed: Pushed) -> None:
    """`git push origin feature/x:develop` fast-forwards develop to a feature's commits."""
    branch_with_commit(pushed.local, "feature/x", "develop")
    published = remote_sha(pushed.origin, "develop")
    assert_blocked(pushed.push("feature/x:develop"), "protected-history", "develop")
    assert remote_sha(pushed.origin, "develop") == published


def test_tags_are_pushed_and_deleted_freely(pushed: Pushed) -> None:
    quiet(pushed.local, "tag", "-a", "v1.0.0", "-m", "Release 1.0.0", "main")
    assert_passes(pushed.push("v1.0.0"))
    assert pushed.origin.git("rev-parse", "-q", "--verify", "refs/tags/v1.0.0",
                             check=False).code == 0
    assert_passes(pushed.push("--delete", "v1.0.0"))


def test_push_by_url_is_judged_like_a_push_to_a_remote(pushed: Pushed) -> None:
    """`git push <url> ...` names no remote, so there are no remote-tracking refs to consult."""
    url = pushed.origin.path.as_uri()
    quiet(pushed.local, "switch", "-q", "develop")
    commit_quiet(pushed.local, "hack.py")
    published = remote_sha(pushed.origin, "develop")
    assert_blocked(pushed.local.git("push", url, "develop", check=False), "protected-history")
    assert remote_sha(pushed.origin, "develop") == published
    tip = branch_with_commit(pushed.local, "feature/by-url", "main")
    assert_passes(pushed.local.git("push", url, "feature/by-url", check=False))
    assert remote_sha(pushed.origin, "feature/by-url") == tip


def test_a_whole_git_flow_cycle_passes_without_noise(pushed: Pushed) -> None:
    """Features, two releases and a hotfix, each pushed and cleaned up, with
    every hook on, local and server: nothing may be refused or even warned about."""
    local = pushed.local
    pushed.origin.git("config", "core.hooksPath", str(HOOKS))

    def ok(*args: str) -> None:
        assert_passes(local.git(*args, check=False))

    def finish(branch: str, *targets: str) -> None:
        for target in targets:
            ok("switch", "-q", target)
            ok("merge", "--no-ff", "--no-edit", branch)
        ok("push", "-q", "origin", *targets)
        ok("push", "-q", "origin", "--delete", branch)

    def start(branch: str, base: str, rel: str) -> None:
        ok("switch", "-q", "-c", branch, base)
        local.write(rel, f"{branch}\n")
        ok("add", rel)
        ok("commit", "-qm", f"Work on {branch}")
        ok("push", "-q", "-u", "origin", branch)

    start("feature/a", "develop", "a.py")
    finish("feature/a", "develop")
    start("release/1.0.0", "develop", "VERSION")
    finish("release/1.0.0", "main", "develop")
    start("hotfix/crash", "main", "fix.py")
    finish("hotfix/crash", "main", "develop")
    start("feature/b", "develop", "b.py")  # experiments need MLflow runs: tests/runs
    start("feature/c", "develop", "c.py")
    finish("feature/c", "develop")
    finish("feature/b", "develop")
    start("release/1.1.0", "develop", "CHANGELOG")
    finish("release/1.1.0", "main", "develop")
    assert remote_sha(pushed.origin, "main") == local.sha("main")
    assert remote_sha(pushed.origin, "develop") == local.sha("develop")
    heads = pushed.origin.git("for-each-ref", "--format=%(refname:short)", "refs/heads").out
    assert heads.split() == ["develop", "main"]


def test_merge_with_a_custom_message_is_judged_by_its_merged_branch(pushed: Pushed) -> None:
    """No branch name in the message: the refs at the merged commit name the source."""
    branch_with_commit(pushed.local, "feature/login", "develop")
    tip = merge_quiet(pushed.local, "develop", "feature/login", "Add the login form")
    assert_passes(pushed.push("develop"))
    assert remote_sha(pushed.origin, "develop") == tip
    branch_with_commit(pushed.local, "feature/logout", "develop")
    merge_quiet(pushed.local, "main", "feature/logout", "Add the logout button")
    assert_blocked(pushed.push("main"), "protected-history", "main")


def test_server_fails_closed_on_a_broken_committed_policy(repo: Repo, tmp_path: Path) -> None:
    """A bad policy that reached develop (hooks off) makes the server refuse, with the place."""
    quiet(repo, "switch", "-q", "develop")
    commit_quiet(repo, ".flowwarden.yaml", "extends: gitflow-ml\nbranches:\n  feature:\n"
                                           "    patern: \"feature/.+\"\n")
    origin = add_bare_remote(repo, tmp_path / "server.git")
    origin.git("config", "core.hooksPath", str(HOOKS))
    branch_with_commit(repo, "feature/a", "develop")
    result = repo.git("push", "--no-verify", "origin", "feature/a", check=False)
    assert result.code != 0, result.text
    assert ".flowwarden.yaml:4:5" in result.text and "Traceback" not in result.text
    assert remote_sha(origin, "feature/a") is None
