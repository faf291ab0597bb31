"""GitHub Actions workflow commands: one annotation per violation, per the runner's escaping."""
from __future__ import annotations

from flowwarden.core.records import Outcome, Severity, Violation
from flowwarden.report import Report, text
from flowwarden.report.escape import terminal
from flowwarden.report.markdown import headline


def _data(text: str) -> str:
    """A command's value as the runner unescapes it: one line whatever the text holds."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _line(text: str) -> str:
    """One untrusted line of an annotation: controls made visible first."""
    return terminal(text)


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(v: Violation) -> str | None:
    """`::error title=<rule>::<message>` (a multi-line body carries the details and fix)."""
    if v.severity is Severity.OFF:
        return None
    body = [_line(headline(v)), *(_line(line) for d in v.details for line in d.split("\n"))]
    if v.waived_by is not None:
        level, title = "notice", f"{v.rule} (waived)"
        body.append(f"waived by: {_line(v.waived_by)}")
    else:
        level = "error" if v.severity is Severity.ERROR else "warning"
        title = v.rule
    if v.fix:
        body.append(f"fix: {_line(v.fix)}")
    return f"::{level} title={_property(title)}::{_data(chr(10).join(body))}"


def render(outcome: Outcome) -> str:
    lines = [a for a in map(annotation, outcome.violations) if a is not None]
    lines += [f"::notice title=flowwarden::{_data(_line(note))}" for note in outcome.notes]
    return "\n".join(lines) + ("\n" if lines else "")


def report(r: Report) -> str:
    """Annotations for the run's summary, then the text report for its log."""
    return render(r.outcome) + text.render(r.outcome, r.what, local=r.local) + "\n"
