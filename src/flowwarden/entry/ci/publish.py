"""The output of `flowwarden ci`: stdout in the chosen format, the GitHub step summary, and
the GitLab code-quality report."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from flowwarden.core.records import Outcome
from flowwarden.report import REPORTER_BY_NAME, Report, reporter

FORMATS = tuple(REPORTER_BY_NAME)


def render(outcome: Outcome, fmt: str, what: str) -> str:
    return reporter(fmt)(Report(outcome, what, f"flowwarden ci: {what}", local=False))


def publish(outcome: Outcome, what: str, fmt: str, report_path: str | None,
            env: Mapping[str, str], out: TextIO, picture: str | None = None) -> None:
    """`picture`: the flow the incoming commits propose (Mermaid), for the step summary."""
    out.write(render(outcome, fmt, what))
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(render(outcome, "markdown", what))
            if picture:
                handle.write("\n### The flow the incoming policy proposes\n\n```mermaid\n"
                             f"{picture}```\n")
    if report_path:
        Path(report_path).write_text(render(outcome, "gitlab", what))
