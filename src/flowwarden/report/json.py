"""Machine-readable output: the outcome as one JSON object."""
from __future__ import annotations

import json
from typing import Any

from flowwarden.core.errors import Exit
from flowwarden.core.records import Outcome, Violation
from flowwarden.report import Report


def violation_dict(v: Violation) -> dict[str, Any]:
    return {"rule": v.rule, "severity": v.severity.value, "subject": v.subject,
            "message": v.message, "fix": v.fix, "details": list(v.details),
            "waived_by": v.waived_by, "path": v.path}


def render(outcome: Outcome, what: str, exit_code: int) -> str:
    return json.dumps({
        "operation": what, "exit": exit_code,
        "violations": [violation_dict(v) for v in outcome.violations],
        "notes": list(outcome.notes),
    }, indent=2)


def report(r: Report) -> str:
    code = Exit.VIOLATION if r.outcome.blocking else Exit.OK
    return render(r.outcome, r.what, int(code)) + "\n"
