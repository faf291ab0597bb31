"""The CI templates parse, run `flowwarden ci` as a check, and fetch enough history."""
from __future__ import annotations

from typing import Any

import yaml

from fwkit import PROJECT

TEMPLATES = PROJECT / "templates"


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((TEMPLATES / name).read_text())
    assert isinstance(data, dict)
    return data


def test_github_workflow_runs_flowwarden_ci_on_pull_requests_and_pushes() -> None:
    workflow = load("github-actions.yml")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert set(triggers) == {"pull_request", "push"}
    job = workflow["jobs"]["flowwarden"]
    assert job["name"] == "flowwarden"  # the status check to mark required
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs[-1] == "flowwarden ci"
    assert any(r.startswith("pip install flowwarden") for r in runs)


def test_gitlab_job_runs_on_merge_requests_and_branches_with_a_code_quality_report() -> None:
    job = load("gitlab-ci.yml")["flowwarden"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    conditions = [r["if"] for r in job["rules"]]
    assert '$CI_PIPELINE_SOURCE == "merge_request_event"' in conditions
    assert "$CI_COMMIT_BRANCH" in conditions
    assert any("refs/remotes/origin/*" in line for line in job["before_script"])
    (command,) = job["script"]
    report = job["artifacts"]["reports"]["codequality"]
    assert command == f"flowwarden ci --report {report}"
    assert job["artifacts"]["when"] == "always"
