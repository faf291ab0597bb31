"""The quiet plan: message stages with nothing to check on a branch start no interpreter,
and still run, and refuse, where a rule applies or once the policy has changed."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from corekit import add_bare_remote, quiet

from fwkit import HOOKS, Repo, run

NO_RUN = "Try a wider encoder"
RUNS_ON_FEATURES = "extends: gitflow-ml\nruns:\n  branches: [feature, experiment]\n"


def logging_wrapper(path: Path, real: str, log: Path) -> None:
    """Replace `path` with a script that notes its arguments in `log`, then runs `real`."""
    if path.is_symlink() or path.exists():
        path.unlink()
    path.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    path.chmod(0o755)


def stages_run(log: Path) -> list[str]:
    """The hook stages that started flowwarden, in order."""
    if not log.exists():
        return []
    words = [line.split() for line in log.read_text().splitlines()]
    return [w[w.index("hook") + 1] for w in words if "hook" in w]


@pytest.fixture
def installed(repo: Repo, tmp_path: Path) -> tuple[Repo, Path]:
    """`flowwarden install` run by a Python reached through a symlink (as in a virtualenv),
    which then becomes a wrapper noting every interpreter start of the shims."""
    link = tmp_path / "venv-bin" / "python"
    link.parent.mkdir()
    link.symlink_to(sys.executable)
    result = run([str(link), "-m", "flowwarden", "install"], repo.path, repo.env)
    assert result.code == 0, result.text
    log = tmp_path / "python.log"
    logging_wrapper(link, sys.executable, log)
    quiet(repo, "switch", "-q", "-c", "feature/x", "develop")
    return repo, log


def test_message_stages_start_no_interpreter_on_a_feature_branch(
        installed: tuple[Repo, Path]) -> None:
    repo, log = installed
    first = repo.commit_file("model.py", "print('a')\n", NO_RUN)
    assert first.code == 0, first.text
    log.unlink()
    second = repo.commit_file("model.py", "print('b')\n", NO_RUN)
    assert second.code == 0, second.text
    assert stages_run(log) == ["pre-commit"]
    assert repo.git("log", "-1", "--format=%s").out.strip() == NO_RUN


def test_experiment_branch_still_runs_and_refuses_a_commit_without_a_run(
        installed: tuple[Repo, Path]) -> None:
    repo, log = installed
    assert repo.commit_file("model.py", "print('a')\n", NO_RUN).code == 0  # plan for feature/x
    quiet(repo, "switch", "-q", "-c", "experiment/wide", "develop")
    before = repo.sha()
    log.unlink()
    result = repo.commit_file("train.py", "print('b')\n", NO_RUN)
    assert result.code == 1, result.text
    assert "mlflow-run-id" in result.err and "cites no run" in result.err
    assert repo.sha() == before
    assert stages_run(log) == ["pre-commit", "prepare-commit-msg", "commit-msg"]


def test_editing_the_policy_invalidates_the_plan(installed: tuple[Repo, Path]) -> None:
    repo, log = installed
    assert repo.commit_file("model.py", "print('a')\n", NO_RUN).code == 0
    repo.write(".flowwarden.yaml", RUNS_ON_FEATURES)  # not committed: the work tree's policy
    message = repo.write(".git/COMMIT_EDITMSG", NO_RUN + "\n")
    log.unlink()
    hook = run([str(repo.path / ".git" / "hooks" / "commit-msg"), str(message)], repo.path,
               repo.env)  # as git runs it, with no pre-commit run first to refresh the plan
    assert hook.code == 1, hook.text
    assert "mlflow-run-id" in hook.err
    assert stages_run(log) == ["commit-msg"]


def test_a_plan_for_another_branch_does_not_apply(installed: tuple[Repo, Path]) -> None:
    repo, log = installed
    assert repo.commit_file("model.py", "print('a')\n", NO_RUN).code == 0
    quiet(repo, "switch", "-q", "-c", "experiment/wide", "develop")
    message = repo.write(".git/COMMIT_EDITMSG", NO_RUN + "\n")
    log.unlink()
    hook = run([str(repo.path / ".git" / "hooks" / "commit-msg"), str(message)], repo.path,
               repo.env)
    assert hook.code == 1 and "mlflow-run-id" in hook.err, hook.text


def test_hooks_path_shims_skip_too(shim_repo: Repo, tmp_path: Path, fw_bin: Path) -> None:
    """The shims in hooks/ (core.hooksPath): same plan, same checks."""
    wrapper_dir = tmp_path / "logged-bin"
    wrapper_dir.mkdir()
    log = tmp_path / "fw.log"
    logging_wrapper(wrapper_dir / "flowwarden", str(fw_bin / "flowwarden"), log)
    shim_repo.env["PATH"] = f"{wrapper_dir}:{shim_repo.env['PATH']}"
    quiet(shim_repo, "switch", "-q", "-c", "feature/x", "develop")
    assert shim_repo.commit_file("a.py", "a\n", NO_RUN).code == 0
    log.unlink()
    assert shim_repo.commit_file("a.py", "b\n", NO_RUN).code == 0
    assert stages_run(log) == ["pre-commit"]
    quiet(shim_repo, "switch", "-q", "-c", "experiment/wide", "develop")
    refused = shim_repo.commit_file("train.py", "c\n", NO_RUN)
    assert refused.code == 1 and "mlflow-run-id" in refused.err, refused.text


def test_server_shim_ignores_the_pushers_flowwarden(repo: Repo, tmp_path: Path) -> None:
    evil = tmp_path / "evil"
    evil.write_text(f'#!/bin/sh\ntouch "{tmp_path / "ran"}"\nexit 0\n')
    evil.chmod(0o755)
    add_bare_remote(repo, tmp_path / "server.git", server_hooks=True)
    quiet(repo, "switch", "-q", "develop")
    quiet(repo, "commit", "-q", "--allow-empty", "-m", "Direct commit on develop")
    pushed = repo.git("push", "--no-verify", "origin", "develop", check=False,
                      env={"FLOWWARDEN": str(evil)})
    assert not (tmp_path / "ran").exists()
    assert pushed.code != 0 and "protected-history" in pushed.err, pushed.text


def test_hooks_dir_matches_the_generator() -> None:
    from flowwarden.entry.install import WORKTREE_STAGES, repo_shim

    for stage in (*WORKTREE_STAGES, "pre-receive"):
        assert (HOOKS / stage).read_text() == repo_shim(stage), stage


def test_each_worktree_has_its_own_plan(installed: tuple[Repo, Path], tmp_path: Path) -> None:
    repo, log = installed
    assert repo.commit_file("model.py", "print('a')\n", NO_RUN).code == 0
    other = Repo(tmp_path / "wide", repo.env)
    quiet(repo, "worktree", "add", "-q", "-b", "experiment/wide", str(other.path), "develop")
    refused = other.commit_file("train.py", "print('b')\n", NO_RUN)
    assert refused.code == 1 and "mlflow-run-id" in refused.err, refused.text
    log.unlink()
    assert repo.commit_file("model.py", "print('c')\n", NO_RUN).code == 0
    assert stages_run(log) == ["pre-commit"]
