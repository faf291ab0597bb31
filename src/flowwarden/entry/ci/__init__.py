"""`flowwarden ci`: judge a pull/merge request or a pushed range where --no-verify cannot reach.

The verdict uses the policy committed on the target branch (for a new branch, on the branch
it must come from), never the one the incoming commits bring. The modules follow the run:
platform (what the CI says), history (the commits it needs), judge (which policy judges),
verdict (the engine's answer), publish (the output).
"""
from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import TextIO

from flowwarden.adapters.git import GitRepo
from flowwarden.core.errors import PolicyError
from flowwarden.entry.boundary import parse
from flowwarden.entry.ci.history import resolve_request
from flowwarden.entry.ci.platform import MergeRequest, PushRange, Request, detect
from flowwarden.entry.ci.publish import FORMATS, publish
from flowwarden.entry.ci.verdict import describe, evaluate, verdict
from flowwarden.entry.graph import graph_of, mermaid_text, render_mermaid
from flowwarden.entry.output import exit_for
from flowwarden.policy.load import load_policy_at
from flowwarden.policy.select import CHANGES_POLICY

__all__ = ["MergeRequest", "PushRange", "Request", "detect", "parser", "run"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="flowwarden ci",
        description="Judge a pull/merge request or a pushed range by the target's policy.")
    p.add_argument("--source", help="the branch being merged (a pull request's head)")
    p.add_argument("--target", help="the branch it merges into (a pull request's base)")
    p.add_argument("--range", metavar="A..B", help="a pushed range: before..after")
    p.add_argument("--ref", help="the branch the range was pushed to "
                   "(default: B when it is a branch, else the checked-out branch)")
    p.add_argument("--remote", default="origin", help="remote to resolve branches and fetch from")
    p.add_argument("--no-fetch", dest="fetch", action="store_false",
                   help="never deepen a shallow clone; say which depth is needed instead")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="stdout format (default: github under GitHub Actions, else text)")
    p.add_argument("--report", metavar="PATH",
                   help="also write a GitLab code-quality JSON report to PATH")
    p.add_argument("--run-checks", action="store_true",
                   help="run the policy's checks for the target of a merge request")
    return p


def proposed_flow(repo: GitRepo, request: Request) -> str | None:
    """The incoming commits' policy drawn as Mermaid, for a reviewer; it judges nothing."""
    incoming = request.source_sha if isinstance(request, MergeRequest) else request.after
    if not incoming:
        return None
    try:
        policy = load_policy_at(repo, incoming)
    except PolicyError as error:
        return f"flowchart LR\n  broken[\"{mermaid_text(str(error))}\"]\n"
    return render_mermaid(graph_of(policy), policy.source.replace(incoming, incoming[:12]))


def run(argv: Sequence[str], env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    """The command; it raises, and the caller's boundary maps failures to exit codes."""
    args = parse(parser(), argv)
    if args.format is None:
        args.format = "github" if env.get("GITHUB_ACTIONS") == "true" else "text"
    repo = GitRepo.discover(".")
    # Resolved first, so that the verdict line names the branch and commits judged, not
    # what was typed (`--range A..origin/main` read "push to  (A..origin/mai)").
    request = resolve_request(repo, detect(args, env), args.remote, args.fetch)
    outcome = evaluate(repo, request, env, args.remote, args.fetch,
                       err if args.run_checks else None)
    picture = proposed_flow(repo, request) if env.get("GITHUB_STEP_SUMMARY") and any(
        CHANGES_POLICY in note for note in outcome.notes) else None
    publish(outcome, describe(request), args.format, args.report, env, out, picture)
    err.write(f"flowwarden ci: {describe(request)}: {verdict(outcome)}\n")
    return exit_for(outcome)

