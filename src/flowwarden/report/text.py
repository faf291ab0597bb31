"""Human-readable output: one line per violation with its rule id, then the fix."""
from __future__ import annotations

from flowwarden.core.records import Outcome, Severity, Violation
from flowwarden.report import Report
from flowwarden.report.escape import terminal

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "waived": "\033[2m", "fix": "\033[36m"}
_RESET = "\033[0m"


def _paint(text: str, what: str, color: bool) -> str:
    return f"{_COLORS[what]}{text}{_RESET}" if color else text


def _label(v: Violation) -> str:
    if v.waived_by:
        return "waived"
    return "error" if v.severity is Severity.ERROR else "warning"


def render_violation(v: Violation, color: bool = False) -> str:
    label = _label(v)
    head = f"{label}: {v.rule}: {terminal(v.message)}"
    if v.waived_by:
        head = f"waived ({terminal(v.waived_by)}): {v.rule}: {terminal(v.message)}"
    lines = [_paint(head, label, color)]
    lines += [f"  {terminal(line)}" for d in v.details for line in d.split("\n")]
    if v.fix and not v.waived_by:
        lines.append(_paint(f"  fix: {terminal(v.fix)}", "fix", color))
    return "\n".join(lines)


def render(outcome: Outcome, what: str, color: bool = False, local: bool = True) -> str:
    """The full report; `what` names the operation ("commit on develop", "push to origin").
    `local` runs can be skipped with FLOWWARDEN_SKIP, and the refusal says how."""
    parts = [render_violation(v, color) for v in outcome.violations]
    parts += [f"note: {terminal(n)}" for n in outcome.notes]
    blocking = outcome.blocking
    if blocking:
        rules = ",".join(sorted({v.rule for v in blocking}))
        errors = f"{len(blocking)} error{'s' if len(blocking) != 1 else ''}"
        hint = (f" To skip deliberately: FLOWWARDEN_SKIP={rules} (printed as a waiver; CI and "
                "the server still check)." if local else "")
        parts.append(f"flowwarden: {terminal(what)} refused ({errors}).{hint}")
    return "\n".join(parts)


def report(r: Report) -> str:
    """The text report, newline-terminated; empty when there is nothing to say."""
    if not (r.outcome.violations or r.outcome.notes):
        return ""
    return render(r.outcome, r.what, r.color, r.local) + "\n"
