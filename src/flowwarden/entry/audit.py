"""`flowwarden audit`: every violation in the history of the protected branches, per rule.

Each first-parent step of a protected branch is judged as the push that would have made it,
so a fast-forward of a feature into main shows up as direct commits on main. The history is
read once (one `git log` for the commit graph, one `diff-tree` and one size query for the
changes, whatever its length) and walked once: a step on two protected lines is judged on
the first branch in policy order, and each commit is judged in the oldest step that brings
it, so each finding is reported once, where it came in.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from flowwarden.adapters.git import GitRepo
from flowwarden.core.errors import Exit, UsageError
from flowwarden.core.records import Outcome, Push, Severity, Violation
from flowwarden.core.stages import Stage
from flowwarden.engine.evaluate import evaluate
from flowwarden.entry import policy_change
from flowwarden.entry.boundary import parse
from flowwarden.entry.output import exit_for
from flowwarden.facts.history import walk
from flowwarden.policy.load import load_policy, load_policy_file
from flowwarden.policy.model import Policy
from flowwarden.report import json as json_report
from flowwarden.report import markdown, text
from flowwarden.rules.base import Context


@dataclass(frozen=True)
class Audit:
    branches: tuple[tuple[str, str], ...]  # (name, tip) in the order they were walked
    steps: int  # first-parent steps judged
    outcome: Outcome

    @property
    def counts(self) -> Counter[str]:
        return Counter(v.rule for v in self.outcome.violations if v.severity is not Severity.OFF)


def protected_branches(repo: GitRepo, policy: Policy, remote: str) -> list[tuple[str, str]]:
    """Protected branches, local ones or else the remote's, in policy order then by name."""
    local = repo.local_branches()
    candidates = local or repo.remote_branches(remote)
    found = []
    for kind in policy.protected_kinds:
        found += [(name, candidates[name]) for name in sorted(candidates) if kind.matches(name)]
    return found


def run_audit(repo: GitRepo, policy: Policy, env: Mapping[str, str], since: str | None,
              remote: str = "origin") -> Audit:
    branches = protected_branches(repo, policy, remote)
    graph = repo.load_graph([tip for _, tip in branches], [since] if since else [])
    steps = walk(graph, branches)
    # Each step is judged exactly as CI judges a push: no local skips, the same rules.
    ctx = Context(policy, repo, Stage.CI, env)
    ctx.facts.history.adopt(steps)
    order = {name: i for i, (name, _) in enumerate(branches)}
    found: dict[tuple[int, int], list[Violation]] = {}
    notes: dict[str, None] = {}
    for position, step in enumerate(steps):
        outcome = evaluate(Push((step.update,)), ctx)
        found[(order[step.branch], position)] = list(outcome.violations)
        notes.update(dict.fromkeys(outcome.notes))
    violations = [v for key in sorted(found) for v in found[key]]
    unique = tuple(dict.fromkeys(violations))  # a finding two steps share is one finding
    return Audit(tuple(branches), len(steps), Outcome(unique, tuple(notes)))


def render_text(audit: Audit) -> str:
    names = ", ".join(name for name, _ in audit.branches) or "none"
    lines = [text.render_violation(v) for v in audit.outcome.violations]
    lines += [f"note: {n}" for n in audit.outcome.notes]
    lines += ["", f"audited {audit.steps} commits on {names}"] if lines else \
        [f"audited {audit.steps} commits on {names}"]
    counts = audit.counts
    width = max((len(rule) for rule in counts), default=0)
    lines += [f"  {rule:<{width}}  {n}" for rule, n in sorted(counts.items())]
    lines.append(f"  {'total':<{width}}  {sum(counts.values())}" if counts else "  no violations")
    return "\n".join(lines) + "\n"


def render_json(audit: Audit) -> str:
    return json.dumps({
        "branches": [{"name": n, "tip": t} for n, t in audit.branches],
        "commits": audit.steps,
        "counts": dict(sorted(audit.counts.items())),
        "violations": [json_report.violation_dict(v) for v in audit.outcome.violations],
        "notes": list(audit.outcome.notes),
    }, indent=2) + "\n"


def render(audit: Audit, fmt: str) -> str:
    if fmt == "json":
        return render_json(audit)
    if fmt == "markdown":
        names = ", ".join(name for name, _ in audit.branches) or "no protected branch"
        return markdown.render(audit.outcome, title=f"flowwarden audit of {names} "
                                                    f"({audit.steps} commits)")
    return render_text(audit)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="flowwarden audit",
        description="Every violation in the history of the protected branches, per rule.")
    p.add_argument("--since", metavar="REF", help="only commits not reachable from REF")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   help="output format (default: text; markdown for a step summary)")
    p.add_argument("--remote", default="origin",
                   help="whose branches to audit when there are no local ones")
    p.add_argument("--policy", metavar="FILE",
                   help="dry-run this policy: what it would newly refuse or allow")
    return p


def run(argv: Sequence[str], env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    """The command; it raises, and the caller's boundary maps failures to exit codes."""
    args = parse(parser(), argv)
    repo = GitRepo.discover(".")
    policy = load_policy(repo.root)
    since = None
    start = args.since or policy.ci.audit_since
    if start:
        since = repo.rev_parse(str(start))
        if since is None:
            raise UsageError(f"--since {start} is not a commit",
                             "flowwarden audit --since <tag, branch or sha>")
    if args.policy:  # a dry run of a policy change (docs/authoring.md)
        if not Path(args.policy).is_file():
            raise UsageError(f"--policy {args.policy}: no such policy file")
        proposed = load_policy_file(Path(args.policy))
        before, after = (run_audit(repo, p, env, since, args.remote) for p in (policy, proposed))
        change = policy_change.compare(before.outcome, after.outcome, policy.source,
                                       proposed.source, after.steps)
        out.write(policy_change.render(change, args.format))
        return Exit.OK
    audit = run_audit(repo, policy, env, since, args.remote)
    out.write(render(audit, args.format))
    return exit_for(audit.outcome)
