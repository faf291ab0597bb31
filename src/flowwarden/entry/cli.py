"""The `flowwarden` command: parse arguments, run, and let the boundary map failures."""
from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from flowwarden.entry import boundary, commands

if TYPE_CHECKING:
    import argparse


def build_parser() -> argparse.ArgumentParser:
    import argparse  # not on a hook's path: see _hook_fast_path

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--format", choices=("text", "json"), default=argparse.SUPPRESS,
                        help="output format (default: text)")
    common.add_argument("--color", choices=("auto", "always", "never"),
                        default=argparse.SUPPRESS, help="colour output (honours NO_COLOR)")
    parser = argparse.ArgumentParser(
        prog="flowwarden", parents=[common],
        description="Enforce a Git Flow branch policy in machine-learning repositories.")
    parser.add_argument("-C", dest="directory", default=".", help="run as if started in DIR")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    hook = sub.add_parser("hook", parents=[common], help="run as a git hook (shims call this)")
    hook.add_argument("stage", help="the git hook name, or auto / auto-msg under pre-commit")
    hook.add_argument("args", nargs=argparse.REMAINDER, help="git's hook arguments")

    check = sub.add_parser("check", parents=[common],
                           help="ask the policy about a branch or a merge, changing nothing")
    check.add_argument("--branch", metavar="NAME")
    check.add_argument("--merge", metavar="SOURCE")
    check.add_argument("--into", metavar="TARGET")

    sub.add_parser("rules", parents=[common], help="list the rules and their severities")
    explain = sub.add_parser("explain", parents=[common], help="what a rule checks and why")
    explain.add_argument("rule")

    policy = sub.add_parser("policy", parents=[common],
                            help="validate, show or describe the policy")
    policy.add_argument("action", choices=("validate", "show", "schema", "graph", "diff"),
                        help="graph and diff take their own options (`policy graph --help`)")
    policy.add_argument("--file", help="policy file to read (default: .flowwarden.yaml)")

    install = sub.add_parser("install", parents=[common],
                             help="install flowwarden's hooks, chaining to hooks already there")
    install.add_argument("--uninstall", action="store_true", help="remove them again")
    sub.add_parser("demo", parents=[common],
                   help="walk the Git Flow in a scratch repository and show each verdict")
    sub.add_parser("ci", add_help=False,
                   help="judge a pull/merge request or a pushed range in CI (see `ci --help`)")
    sub.add_parser("audit", add_help=False,
                   help="every violation in the protected branches' history (`audit --help`)")
    sub.add_parser("test", add_help=False,
                   help="run a policy's test cases (`test --help`)")
    sub.add_parser("export", add_help=False,
                   help="what GitHub or GitLab can enforce natively (`export --help`)")
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ)
    return boundary.guarded(lambda: _dispatch(args, out, err, env), boundary.where(args),
                            err, env)


# These parse their own options, and are imported only when asked for.
DELEGATED = {"ci": "flowwarden.entry.ci", "audit": "flowwarden.entry.audit",
             "test": "flowwarden.entry.policy_test", "export": "flowwarden.entry.export",
             "policy graph": "flowwarden.entry.graph",
             "policy diff": "flowwarden.entry.policy_diff"}


def _dispatch(argv: list[str], out: TextIO, err: TextIO, env: dict[str, str]) -> int:
    if len(argv) >= 2 and argv[0] == "-C":
        os.chdir(argv[1])
        argv = argv[2:]
    for words in (2, 1):
        if " ".join(argv[:words]) in DELEGATED:
            module = importlib.import_module(DELEGATED[" ".join(argv[:words])])
            return int(module.run(argv[words:], env, out, err))
    ns = _hook_fast_path(argv) or boundary.parse(build_parser(), argv)
    ns.format = getattr(ns, "format", "text")
    ns.color = getattr(ns, "color", "auto")
    if ns.directory != ".":
        os.chdir(ns.directory)
    handler = getattr(commands, "cmd_" + ns.command.replace("-", "_"))
    code: int = handler(ns, out, err, env)
    return code


def _hook_fast_path(argv: list[str]) -> argparse.Namespace | None:
    """`hook STAGE ARGS...` as git shims call it, parsed without building the parser: hooks
    run on every commit, and building it is a measurable share of that."""
    if len(argv) < 2 or argv[0] != "hook" or argv[1].startswith("-"):
        return None
    from types import SimpleNamespace

    ns: argparse.Namespace = SimpleNamespace(  # type: ignore[assignment]
        command="hook", stage=argv[1], args=argv[2:], directory=".")
    return ns
