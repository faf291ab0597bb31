"""Machine-readable output: the outcome as one JSON object."""
from __future__ import annotations

import json
from typing import Any

from flowwarden.core.records import Outcome, Violation


def violation_dict(v: Violation) -> dict[str, Any]:
    return {"rule": v.rule, "severity": v.severity.value, "subject": v.subject,
            "message": v.message, "fix": v.fix, "details": list(v.details),
            "waived_by": v.waived_by}


def render(outcome: Outcome, what: str, exit_code: int) -> str:
    return json.dumps({
        "operation": what, "exit": exit_code,
        "violations": [violation_dict(v) for v in outcome.violations],
        "notes": list(outcome.notes),
    }, indent=2)
