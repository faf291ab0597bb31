"""`flowwarden policy diff --against REF`: dry-run a policy change on the repository's history.

The policy committed at REF is the current one; the work tree's `.flowwarden.yaml` (or
`--policy FILE`) is the proposed one. Both judge the protected branches' history as
`flowwarden audit` does, and the difference is printed: what would newly be refused or
allowed, per rule. This is what a reviewer reads on a pull request that changes the policy.
"""
from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from flowwarden.adapters.git import GitRepo
from flowwarden.core.errors import Exit, UsageError
from flowwarden.entry.audit import run_audit
from flowwarden.entry.boundary import parse
from flowwarden.entry.policy_change import Change, compare, render
from flowwarden.policy.load import load_policy, load_policy_at, load_policy_file
from flowwarden.policy.model import Policy


def diff(repo: GitRepo, current: Policy, proposed: Policy, env: Mapping[str, str],
         since: str | None, remote: str = "origin") -> Change:
    """Both policies' verdicts on the history, compared."""
    before = run_audit(repo, current, env, since, remote)
    after = run_audit(repo, proposed, env, since, remote)
    return compare(before.outcome, after.outcome, current.source, proposed.source, after.steps)


def resolve_since(repo: GitRepo, given: str | None, policy: Policy) -> str | None:
    start = given or policy.ci.audit_since
    if not start:
        return None
    since = repo.rev_parse(str(start))
    if since is None:
        raise UsageError(f"--since {start} is not a commit",
                         "pass a tag, branch or sha with --since")
    return since


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="flowwarden policy diff",
        description="What a policy change would newly refuse or allow on this history.")
    p.add_argument("--against", metavar="REF", required=True,
                   help="the revision whose committed policy is the current one (e.g. "
                        "origin/develop)")
    p.add_argument("--policy", "--file", dest="policy", metavar="FILE",
                   help="the proposed policy (default: the work tree's .flowwarden.yaml)")
    p.add_argument("--since", metavar="REF", help="only commits not reachable from REF")
    p.add_argument("--remote", default="origin",
                   help="whose branches to judge when there are no local ones")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   help="output format (default: text; markdown for a pull request comment)")
    return p


def run(argv: Sequence[str], env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    args = parse(parser(), argv)
    repo = GitRepo.discover(".")
    if repo.rev_parse(args.against) is None:
        raise UsageError(f"--against {args.against} is not a commit",
                         "flowwarden policy diff --against <branch, tag or sha>")
    current = load_policy_at(repo, args.against)
    if args.policy is not None:
        if not Path(args.policy).is_file():
            raise UsageError(f"{args.policy}: no such policy file")
        proposed = load_policy_file(Path(args.policy))
    else:
        proposed = load_policy(repo.root)
    change = diff(repo, current, proposed, env, resolve_since(repo, args.since, current),
                  args.remote)
    out.write(render(change, args.format))
    return Exit.OK
