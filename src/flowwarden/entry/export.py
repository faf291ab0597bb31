"""`flowwarden export github-ruleset | gitlab`: what the forge can enforce natively.

GitHub: the body the repository rulesets API takes (POST /repos/{owner}/{repo}/rulesets).
GitLab: protected-branch settings (POST /projects/:id/protected_branches, one per entry) and
the push rule (PUT /projects/:id/push_rule). Notes on what the forge cannot say go to stderr;
stdout is the forge's JSON alone. docs/authoring.md lists what only flowwarden enforces.
"""
from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, TextIO

from flowwarden.core.errors import Exit, UsageError
from flowwarden.entry.boundary import parse
from flowwarden.entry.globs import to_globs
from flowwarden.entry.graph import merge_methods
from flowwarden.entry.policy_test import policy_for
from flowwarden.policy.model import BranchKind, Policy

CHECK_NAME = "flowwarden"  # the job name in templates/github-actions.yml
#: Policy merge-method names, as GitHub calls them.
GITHUB_METHODS = {"merge": "merge", "merge-commit": "merge", "no-ff": "merge",
                  "squash": "squash", "rebase": "rebase", "fast-forward": "rebase",
                  "ff": "rebase"}
# GitLab access levels (https://docs.gitlab.com/api/protected_branches/).
NO_ONE, DEVELOPER, MAINTAINER = 0, 30, 40
# What RE2 (GitLab's push rules) does not support.
_NOT_RE2 = re.compile(r"\(\?[=!<>]|\\[1-9]|\(\?P=|[*+?}][+]")


class Export(NamedTuple):
    document: dict[str, Any]
    notes: tuple[str, ...]


def ref_globs(kinds: Sequence[BranchKind]) -> tuple[list[str], list[str]]:
    """`refs/heads/...` globs for `kinds`, and a note for each kind a glob widens."""
    globs: list[str] = []
    notes: list[str] = []
    for kind in kinds:
        found = to_globs(kind.pattern)
        globs += [f"refs/heads/{g}" for g in found.globs if f"refs/heads/{g}" not in globs]
        if not found.exact:
            notes.append(f"{kind.name}: the pattern {kind.pattern!r} cannot be a glob; "
                         f"{', '.join(found.globs)} matches more names than it does")
    return globs, notes


def github_ruleset(policy: Policy, names: bool, enforcement: str, check: str) -> Export:
    if names:
        return _names_ruleset(policy, enforcement)
    kinds = policy.protected_kinds
    if not kinds:
        raise UsageError("the policy has no protected branch kinds: there is nothing for a "
                         "ruleset to protect", "flowwarden export github-ruleset --names")
    include, notes = ref_globs(kinds)
    pull_request: dict[str, Any] = {
        "required_approving_review_count": 0, "dismiss_stale_reviews_on_push": False,
        "require_code_owner_review": False, "require_last_push_approval": False,
        "required_review_thread_resolution": False}
    methods, method_notes = _github_methods(kinds)
    if methods:
        pull_request["allowed_merge_methods"] = methods
    rules: list[dict[str, Any]] = [
        {"type": "deletion"},
        {"type": "non_fast_forward"},
        {"type": "pull_request", "parameters": pull_request},
        {"type": "required_status_checks", "parameters": {
            "required_status_checks": [{"context": check}],
            "strict_required_status_checks_policy": False}},
    ]
    document = {
        "name": f"flowwarden: {', '.join(k.name for k in kinds)}",
        "target": "branch", "enforcement": enforcement, "bypass_actors": [],
        "conditions": {"ref_name": {"include": include, "exclude": []}},
        "rules": rules,
    }
    return Export(document, tuple(notes + method_notes))


def _names_ruleset(policy: Policy, enforcement: str) -> Export:
    """Creating a branch whose name matches no kind is refused (to all but bypass actors)."""
    exclude, notes = ref_globs(policy.kinds)
    document = {
        "name": "flowwarden: branch names", "target": "branch", "enforcement": enforcement,
        "bypass_actors": [],
        "conditions": {"ref_name": {"include": ["~ALL"], "exclude": exclude}},
        "rules": [{"type": "creation"}],
    }
    return Export(document, tuple(notes))


def _github_methods(kinds: Sequence[BranchKind]) -> tuple[list[str], list[str]]:
    """The merge methods every kind of the ruleset allows, as GitHub names them."""
    notes: list[str] = []
    allowed: set[str] | None = None
    for kind in kinds:
        own = merge_methods(kind)
        if not own:
            continue
        mapped = {GITHUB_METHODS[m] for m in own if m in GITHUB_METHODS}
        notes += [f"{kind.name}: merge method {m!r} has no GitHub equivalent" for m in own
                  if m not in GITHUB_METHODS]
        allowed = mapped if allowed is None else allowed & mapped
    if allowed is not None and len({merge_methods(k) for k in kinds if merge_methods(k)}) > 1:
        notes.append("the protected kinds allow different merge methods; one ruleset takes "
                     "the ones all allow (export one kind per ruleset with --kind)")
    if allowed is not None and not allowed:
        notes.append("no merge method is allowed on every protected kind: the ruleset leaves "
                     "merge methods to flowwarden")
    order = ("merge", "squash", "rebase")
    return [m for m in order if allowed and m in allowed], notes


def gitlab_settings(policy: Policy) -> Export:
    notes: list[str] = []
    protected = []
    for kind in policy.protected_kinds:
        found = to_globs(kind.pattern)
        if not found.exact:
            notes.append(f"{kind.name}: the pattern {kind.pattern!r} cannot be a wildcard; "
                         f"{', '.join(found.globs)} protects more names than it matches")
        protected += [{"name": glob, "push_access_level": NO_ONE,
                       "merge_access_level": DEVELOPER, "unprotect_access_level": MAINTAINER,
                       "allow_force_push": False} for glob in found.globs]
    regex = "^(?:" + "|".join(f"(?:{k.pattern})" for k in policy.kinds) + ")$"
    notes += [f"{k.name}: the pattern {k.pattern!r} uses syntax RE2 (GitLab's push rules) "
              "does not support" for k in policy.kinds if _NOT_RE2.search(k.pattern)]
    if any(merge_methods(k) for k in policy.kinds):
        notes.append("merge methods: GitLab sets them per project (Settings > Merge requests), "
                     "not per branch; flowwarden enforces the policy's per kind")
    return Export({"protected_branches": protected,
                   "push_rule": {"branch_name_regex": regex}}, tuple(notes))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="flowwarden export",
        description="Print the settings GitHub or GitLab can enforce natively, as JSON.")
    p.add_argument("forge", choices=("github-ruleset", "gitlab"),
                   help="github-ruleset: a repository ruleset; gitlab: protected branches")
    p.add_argument("--policy", "--file", dest="policy", metavar="FILE",
                   help="policy to export (default: the repository's .flowwarden.yaml, or the "
                        "gitflow-ml preset)")
    p.add_argument("--kind", action="append", metavar="KIND",
                   help="github-ruleset: only these protected kinds (repeatable)")
    p.add_argument("--names", action="store_true",
                   help="github-ruleset: the ruleset refusing branch names no kind matches")
    p.add_argument("--enforcement", choices=("active", "evaluate", "disabled"),
                   default="active", help="github-ruleset: the ruleset's enforcement")
    p.add_argument("--check", default=CHECK_NAME,
                   help=f"github-ruleset: the required status check (default: {CHECK_NAME})")
    p.add_argument("--format", choices=("text", "json"), default="json",
                   help="both print the forge's JSON")
    return p


def _only(policy: Policy, names: Sequence[str] | None) -> Policy:
    if not names:
        return policy
    for name in names:
        if policy.kind(name) is None:
            raise UsageError(f"--kind {name}: the policy has no such branch kind; expected one "
                             f"of: {', '.join(k.name for k in policy.kinds)}")
    return policy._replace(kinds=tuple(k for k in policy.kinds if k.name in names))


def run(argv: Sequence[str], env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    args = parse(parser(), argv)
    policy = policy_for(args.policy)
    if args.forge == "gitlab":
        export = gitlab_settings(policy)
    else:
        export = github_ruleset(_only(policy, args.kind), args.names, args.enforcement,
                                args.check)
    out.write(json.dumps(export.document, indent=2) + "\n")
    for note in export.notes:
        err.write(f"note: {note}\n")
    return Exit.OK
