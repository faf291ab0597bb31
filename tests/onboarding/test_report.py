"""Reports point at the file a finding is about."""
from __future__ import annotations

import json

from flowwarden.core.records import Outcome, Violation
from flowwarden.report import gitlab
from flowwarden.report import json as json_report


def test_gitlab_code_quality_points_at_the_data_file_and_else_at_the_policy() -> None:
    data = Violation("dvc-untracked-data", "data/train.csv", "is staged into git",
                     path="data/train.csv")
    branch = Violation("branch-name", "Fix_Stuff", "matches no branch kind")
    issues = json.loads(gitlab.render(Outcome((data, branch))))
    assert [i["location"]["path"] for i in issues] == ["data/train.csv", ".flowwarden.yaml"]
    assert json.loads(json_report.render(Outcome((data,)), "commit", 1)
                      )["violations"][0]["path"] == "data/train.csv"
