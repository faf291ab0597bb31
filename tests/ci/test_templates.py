"""The CI templates: valid against GitHub's and GitLab's schemas, triggered by every event a
required check sees, installing flowwarden pinned from its repository, and run step by step
in a local simulation of the job."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from fwkit import PROJECT, Repo, snapshot_project

from .cikit import Server, github_pull_request, gitlab_merge_request

TEMPLATES = PROJECT / "templates"
EXPRESSION = re.compile(r"\$\{\{\s*(?:vars|secrets)\.[A-Z_]+\s*\}\}")


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((TEMPLATES / name).read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(("name", "schema"), [("github-actions.yml", "vendor.github-workflows"),
                                              ("gitlab-ci.yml", "vendor.gitlab-ci")])
def test_templates_are_valid_for_their_platform(name: str, schema: str) -> None:
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                             schema, str(TEMPLATES / name)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_github_workflow_runs_on_every_event_a_required_check_sees() -> None:
    workflow = load("github-actions.yml")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert set(triggers) == {"pull_request", "merge_group", "push", "delete"}
    assert "github.run_id" in workflow["concurrency"]["group"]  # pushes never cancelled
    job = workflow["jobs"]["flowwarden"]
    assert job["name"] == "flowwarden"  # the status check to mark required
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    assert any(s.get("uses", "").startswith("actions/cache") for s in job["steps"])
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs[-1] == "flowwarden ci"
    assert not any("pip install flowwarden" in r for r in runs)  # no such distribution
    assert "MLFLOW_TRACKING_URI" in job["steps"][-1]["env"]


def test_gitlab_job_runs_on_requests_branches_and_tags_with_a_code_quality_report() -> None:
    job = load("gitlab-ci.yml")["flowwarden"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert job["cache"]["paths"] and "interruptible" not in job
    assert [r.get("interruptible", False) for r in job["rules"]] == [True, False, False]
    conditions = [r["if"] for r in job["rules"]]
    assert conditions == ['$CI_PIPELINE_SOURCE == "merge_request_event"', "$CI_COMMIT_TAG",
                          "$CI_COMMIT_BRANCH"]
    assert any("refs/remotes/origin/*" in line for line in job["before_script"])
    assert not any("pip install flowwarden" in line for line in job["before_script"])
    cases, command = job["script"]
    assert "flowwarden test .flowwarden.cases.yaml" in cases
    report = job["artifacts"]["reports"]["codequality"]
    assert command == f"flowwarden ci --report {report}"
    assert job["artifacts"]["when"] == "always"


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True)


def read_github_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_the_dvc_step_picks_the_plugin_of_every_remote_scheme(tmp_path: Path) -> None:
    step = next(s for s in load("github-actions.yml")["jobs"]["flowwarden"]["steps"]
                if s.get("name") == "Which DVC remote plugin")
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc" / "config").write_text(
        "[core]\n    remote = store\n['remote \"store\"']\n    url = s3://bucket/models\n"
        "['remote \"backup\"']\n    url = gs://backup/models\n['remote \"local\"']\n"
        "    url = /mnt/cache\n")
    github_env = tmp_path / "github-env"
    result = bash(step["run"], tmp_path, {**os.environ, "GITHUB_ENV": str(github_env)})
    assert result.returncode == 0, result.stderr
    assert read_github_env(github_env) == {"FLOWWARDEN_DVC": "dvc[gs,s3]"}
    (tmp_path / ".dvc" / "config").write_text("[core]\n    remote = local\n"
                                              "['remote \"local\"']\n    url = /mnt/cache\n")
    github_env.unlink()
    bash(step["run"], tmp_path, {**os.environ, "GITHUB_ENV": str(github_env)})
    assert read_github_env(github_env) == {"FLOWWARDEN_DVC": "dvc"}


@pytest.fixture
def pinned(tmp_path: Path, env: dict[str, str]) -> tuple[dict[str, str], Path]:
    """FLOWWARDEN_REPO/REV as a user sets them (this checkout, committed), and a fresh
    virtualenv on PATH instead of the test session's flowwarden."""
    rev = snapshot_project(tmp_path / "flowwarden", env)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    path = [str(venv / "bin"), *(p for p in env["PATH"].split(os.pathsep)
                                 if not (Path(p) / "flowwarden").exists())]
    job_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    # pip's PEP 508 parser wants a host in a file URL
    job_env.update(FLOWWARDEN_REPO=f"file://localhost{tmp_path / 'flowwarden'}",
                   FLOWWARDEN_REV=rev, PATH=os.pathsep.join(path),
                   PIP_CACHE_DIR=str(tmp_path / "pip-cache"))
    return job_env, venv


def pushed_feature(server: Server) -> Repo:
    dev = server.dev
    dev.git("switch", "-q", "-c", "feature/data", "develop")
    dev.write(".dvc/config", "[core]\n    remote = store\n['remote \"store\"']\n"
              "    url = /srv/dvc-store\n")
    dev.commit_file("train.py", "EPOCHS = 3\n", "Train for three epochs")
    dev.git("add", ".dvc/config")
    dev.git("commit", "-qm", "Configure the DVC remote")
    dev.git("push", "-q", "origin", "feature/data")
    return dev


@pytest.mark.slow
def test_the_github_job_installs_and_judges_a_pull_request(
        server: Server, tmp_path: Path, pinned: tuple[dict[str, str], Path]) -> None:
    job_env, venv = pinned
    dev = pushed_feature(server)
    clone = server.clone(tmp_path / "ci")
    clone.git("checkout", "-q", "--detach", dev.sha("feature/data"))
    github_env = tmp_path / "github-env"
    github_env.touch()
    env = {**github_pull_request(job_env, tmp_path, "feature/data", "develop",
                                 dev.sha("feature/data"), dev.sha("develop"), commits=2),
           "GITHUB_ENV": str(github_env)}
    output = ""
    for step in load("github-actions.yml")["jobs"]["flowwarden"]["steps"]:
        if "run" not in step:
            continue
        step_env = {k: EXPRESSION.sub("", str(v)) for k, v in step.get("env", {}).items()}
        result = bash(step["run"], clone.path, {**env, **read_github_env(github_env),
                                                **step_env})
        assert result.returncode == 0, (step["run"], result.stdout + result.stderr)
        output += result.stdout + result.stderr
    assert read_github_env(github_env)["FLOWWARDEN_DVC"] == "dvc"
    assert (venv / "bin" / "flowwarden").exists()
    assert "merge of feature/data into develop: passed" in output
    # `flowwarden init` pins pre-commit to the very source and rev pip installed
    init = bash("flowwarden init", dev.path, job_env)
    assert init.returncode == 0, init.stdout + init.stderr
    hooks = yaml.safe_load((dev.path / ".pre-commit-config.yaml").read_text())["repos"][0]
    assert (hooks["repo"], hooks["rev"]) == (job_env["FLOWWARDEN_REPO"],
                                             job_env["FLOWWARDEN_REV"])


@pytest.mark.slow
def test_the_gitlab_job_installs_and_writes_the_code_quality_report(
        server: Server, tmp_path: Path, pinned: tuple[dict[str, str], Path]) -> None:
    job_env, venv = pinned
    dev = pushed_feature(server)
    clone = server.clone(tmp_path / "ci")
    env = gitlab_merge_request(job_env, "feature/data", "main", dev.sha("feature/data"),
                               dev.sha("main"))
    job = load("gitlab-ci.yml")["flowwarden"]
    setup = bash("\n".join(job["before_script"]), clone.path, env)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert (venv / "bin" / "flowwarden").exists()
    result = bash("\n".join(job["script"]), clone.path, env)
    assert result.returncode == 1, result.stdout + result.stderr
    report = (clone.path / job["artifacts"]["reports"]["codequality"]).read_text()
    assert '"check_name": "merge-target"' in report
