"""Markdown report: a summary table per rule, then each violation with its fix."""
from __future__ import annotations

from collections import Counter

from flowwarden.core.records import Outcome, Severity, Violation
from flowwarden.report import Report
from flowwarden.report.escape import code_span, markdown


def headline(v: Violation) -> str:
    """`subject message`, without repeating the subject when the message already names it."""
    return v.message if v.subject in v.message else f"{v.subject}: {v.message}"


def status(v: Violation) -> str:
    if v.waived_by is not None:
        return "waived"
    return v.severity.value


def counts(outcome: Outcome) -> dict[str, Counter[str]]:
    """rule id -> Counter of status (error, warning, waived)."""
    table: dict[str, Counter[str]] = {}
    for v in outcome.violations:
        if v.severity is Severity.OFF:
            continue
        table.setdefault(v.rule, Counter())[status(v)] += 1
    return table


def _cell(text: str) -> str:
    """Untrusted prose as literal markdown (no HTML, links, mentions; `|` kept in tables)."""
    return markdown(text)


def render(outcome: Outcome, title: str = "flowwarden") -> str:
    blocking = len(outcome.blocking)
    verdict = "failed" if blocking else "passed"
    lines = [f"## {_cell(title)}: {verdict}", ""]
    table = counts(outcome)
    if table:
        lines += ["| rule | errors | warnings | waived |", "|---|---:|---:|---:|"]
        for rule, c in sorted(table.items()):
            lines.append(f"| `{rule}` | {c['error']} | {c['warning']} | {c['waived']} |")
        lines.append("")
    else:
        lines += ["No violations.", ""]
    for v in outcome.violations:
        if v.severity is Severity.OFF:
            continue
        lines.append(f"- **{status(v)}** `{v.rule}`: {_cell(headline(v))}")
        for detail in v.details:
            lines.append(f"  - {_cell(detail)}")
        if v.waived_by is not None:
            lines.append(f"  - waived by: {_cell(v.waived_by)}")
        if v.fix:
            lines.append(f"  - fix: {code_span(v.fix)}")
    if outcome.notes:
        lines += ["", "**Notes**", ""]
        lines += [f"- {_cell(note)}" for note in outcome.notes]
    return "\n".join(lines).rstrip() + "\n"


def report(r: Report) -> str:
    return render(r.outcome, title=r.title)
