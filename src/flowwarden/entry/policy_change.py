"""What a policy change would change: the violations one policy refuses on a history that the
other does not, counted per rule. Shared by `policy diff` and `audit --policy`."""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

from flowwarden.core.records import Outcome, Violation
from flowwarden.report import json as json_report
from flowwarden.report import text

# A message's first clause names the finding; what follows (`; expected one of: ...`,
# `(main accepts merges from ...)`) describes the policy and changes with it.
_CLAUSE = re.compile(r"; | \(")


class Change(NamedTuple):
    current: str  # where each policy came from
    proposed: str
    commits: int  # first-parent steps judged under the proposed policy
    newly_refused: tuple[Violation, ...]
    newly_allowed: tuple[Violation, ...]

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        refused = Counter(v.rule for v in self.newly_refused)
        allowed = Counter(v.rule for v in self.newly_allowed)
        return {rule: {"refused": refused[rule], "allowed": allowed[rule]}
                for rule in sorted(set(refused) | set(allowed))}


def finding(v: Violation) -> tuple[str, str, str]:
    """What a violation is about, independent of how the policy words it."""
    return v.rule, v.subject, _CLAUSE.split(v.message, maxsplit=1)[0]


def compare(current: Outcome, proposed: Outcome, current_source: str, proposed_source: str,
            commits: int) -> Change:
    before = {finding(v) for v in current.blocking}
    after = {finding(v) for v in proposed.blocking}
    return Change(current_source, proposed_source, commits,
                  _unique(v for v in proposed.blocking if finding(v) not in before),
                  _unique(v for v in current.blocking if finding(v) not in after))


def _unique(violations: Iterable[Violation]) -> tuple[Violation, ...]:
    seen: dict[tuple[str, str, str], Violation] = {}
    for v in violations:
        seen.setdefault(finding(v), v)
    return tuple(seen.values())


def _safe(value: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)


def render_text(change: Change) -> str:
    lines = [f"policy change: {_safe(change.current)} -> {_safe(change.proposed)}, "
             f"judged on {change.commits} commits of the protected branches"]
    for title, found in (("newly refused", change.newly_refused),
                         ("newly allowed", change.newly_allowed)):
        lines.append(f"{title} ({len(found)}):")
        lines += ["  " + _safe(line) for v in found
                  for line in text.render_violation(v).splitlines()]
    counts = change.counts
    if not counts:
        lines.append("no verdict changes")
        return "\n".join(lines) + "\n"
    width = max(len(rule) for rule in [*counts, "rule"])
    lines.append(f"  {'rule':<{width}}  refused  allowed")
    lines += [f"  {rule:<{width}}  {'+' + str(n['refused']):>7}  {'-' + str(n['allowed']):>7}"
              for rule, n in counts.items()]
    return "\n".join(lines) + "\n"


def render_json(change: Change) -> str:
    return json.dumps({
        "current": change.current, "proposed": change.proposed, "commits": change.commits,
        "counts": change.counts,
        "newly_refused": [json_report.violation_dict(v) for v in change.newly_refused],
        "newly_allowed": [json_report.violation_dict(v) for v in change.newly_allowed],
    }, indent=2) + "\n"


_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def _md(value: str) -> str:
    """Untrusted text (branch names, subjects) as inert markdown on one line."""
    return _MARKDOWN.sub(r"\\\1", _safe(value).replace("\n", " "))


def render_markdown(change: Change) -> str:
    """For a pull request comment or a CI step summary."""
    lines = [f"## flowwarden policy change: {_md(change.current)} → {_md(change.proposed)}",
             "", f"Judged on {change.commits} commits of the protected branches.", ""]
    if not change.counts:
        return "\n".join(lines + ["No verdict changes."]) + "\n"
    lines += ["| rule | newly refused | newly allowed |", "|---|---:|---:|"]
    lines += [f"| `{rule}` | {n['refused']} | {n['allowed']} |"
              for rule, n in change.counts.items()]
    for title, found in (("Newly refused", change.newly_refused),
                         ("Newly allowed", change.newly_allowed)):
        if found:
            lines += ["", f"**{title}**", ""]
            lines += [f"- `{v.rule}`: {_md(v.message)}" for v in found]
    return "\n".join(lines) + "\n"


def render(change: Change, fmt: str) -> str:
    renderers = {"json": render_json, "markdown": render_markdown}
    return renderers.get(fmt, render_text)(change)
