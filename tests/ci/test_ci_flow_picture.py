"""A pull request that changes the policy shows the flow it proposes in the step summary."""
from __future__ import annotations

from pathlib import Path

from .cikit import Server, github_pull_request
from .test_ci_run import ci

PROPOSED = ("extends: gitflow-ml\nbranches:\n"
            "  research:\n    pattern: \"research/.+\"\n    from: [develop]\n"
            "    into: [develop]\n")


def test_a_policy_change_is_drawn_in_the_step_summary(server: Server, tmp_path: Path) -> None:
    dev = server.dev
    dev.git("switch", "-q", "-c", "feature/policy", "develop")
    dev.write(".flowwarden.yaml", PROPOSED)
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "Add a research kind", "--no-verify")
    dev.git("push", "-q", "--no-verify", "origin", "feature/policy")
    clone = server.clone(tmp_path / "ci")
    ci_env = github_pull_request(clone.env, tmp_path, "feature/policy", "develop",
                                 dev.sha("feature/policy"), dev.sha("develop"))
    result = ci(clone, env=ci_env)
    assert result.code == 0, result.text
    summary = Path(ci_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "The flow the incoming policy proposes" in summary
    assert "```mermaid\nflowchart LR" in summary and "research" in summary


def test_a_pull_request_that_keeps_the_policy_draws_nothing(
        server: Server, tmp_path: Path) -> None:
    dev = server.dev
    dev.git("switch", "-q", "-c", "feature/code", "develop")
    dev.commit_file("src/a.py", "a = 1\n", "Add a")
    dev.git("push", "-q", "--no-verify", "origin", "feature/code")
    clone = server.clone(tmp_path / "ci")
    ci_env = github_pull_request(clone.env, tmp_path, "feature/code", "develop",
                                 dev.sha("feature/code"), dev.sha("develop"))
    assert ci(clone, env=ci_env).code == 0
    assert "mermaid" not in Path(ci_env["GITHUB_STEP_SUMMARY"]).read_text()


def test_a_committed_policy_left_alone_draws_nothing(server: Server, tmp_path: Path) -> None:
    """develop has its own .flowwarden.yaml, which the pull request does not touch: the note
    naming the judging policy file is no reason to draw a proposal."""
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dev.write(".flowwarden.yaml", "extends: gitflow-ml\n")
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "Commit the policy", "--no-verify")
    dev.git("push", "-q", "--no-verify", "origin", "develop")
    dev.git("switch", "-q", "-c", "feature/code", "develop")
    dev.commit_file("src/a.py", "a = 1\n", "Add a")
    dev.git("push", "-q", "--no-verify", "origin", "feature/code")
    clone = server.clone(tmp_path / "ci")
    ci_env = github_pull_request(clone.env, tmp_path, "feature/code", "develop",
                                 dev.sha("feature/code"), dev.sha("develop"))
    assert ci(clone, env=ci_env).code == 0
    assert "mermaid" not in Path(ci_env["GITHUB_STEP_SUMMARY"]).read_text()
