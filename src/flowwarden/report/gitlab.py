"""GitLab code-quality report (the Code Climate subset GitLab's merge request widget reads)."""
from __future__ import annotations

import hashlib
import json

from flowwarden.core.records import Outcome, Severity, Violation
from flowwarden.report import Report
from flowwarden.report.markdown import headline

_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor"}


def issue(v: Violation, path: str) -> dict[str, object]:
    """One issue, at the file it is about (a data file, a .dvc file); a finding about a branch
    or a commit has no file, so it points at the policy that refused it."""
    description = f"{v.rule}: {headline(v)}"
    if v.fix:
        description += f" (fix: {v.fix})"
    if v.waived_by is not None:
        description += f" [waived: {v.waived_by}]"
    key = "\0".join((v.rule, v.subject, v.message)).encode()
    return {
        "description": description,
        "check_name": v.rule,
        "fingerprint": hashlib.sha256(key).hexdigest()[:32],
        "severity": "info" if v.waived_by is not None else _SEVERITY[v.severity],
        "location": {"path": v.path or path, "lines": {"begin": 1}},
    }


def render(outcome: Outcome, path: str = ".flowwarden.yaml") -> str:
    issues = [issue(v, path) for v in outcome.violations if v.severity is not Severity.OFF]
    return json.dumps(issues, indent=2) + "\n"


def report(r: Report) -> str:
    return render(r.outcome)
