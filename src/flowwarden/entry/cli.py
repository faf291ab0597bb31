"""The `flowwarden` command: parse arguments, run, report, and map failures to exit codes."""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from flowwarden.core.records import Outcome

if TYPE_CHECKING:
    import argparse

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
SKIP_HINT = "skip deliberately with --no-verify (CI and the server still check)"


class UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    import argparse
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
    policy.add_argument("action", choices=("validate", "show", "schema"))
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
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ)
    try:
        return _dispatch(args, out, err, env)
    except KeyboardInterrupt:
        err.write("flowwarden: interrupted\n")
        return EXIT_INTERNAL
    except Exception as exc:  # every failure becomes one readable line and a closed gate
        return _report_failure(exc, err, env)


def _report_failure(exc: Exception, err: TextIO, env: dict[str, str]) -> int:
    from flowwarden.adapters.git import NotARepository
    from flowwarden.core.errors import PolicyError
    from flowwarden.entry.hook import HookUsageError

    if isinstance(exc, PolicyError):
        err.write(f"flowwarden: policy error: {exc}\n"
                  f"  fix: correct the policy (`flowwarden policy validate`), or {SKIP_HINT}\n")
        return EXIT_USAGE
    if isinstance(exc, (UsageError, HookUsageError, NotARepository)):
        err.write(f"flowwarden: {exc}\n")
        return EXIT_USAGE
    if env.get("FLOWWARDEN_DEBUG"):
        import traceback

        traceback.print_exception(exc, file=err)
    err.write(f"flowwarden: internal error, refusing to let the operation through: "
              f"{type(exc).__name__}: {exc}\n"
              f"  (FLOWWARDEN_DEBUG=1 shows the traceback; {SKIP_HINT})\n")
    return EXIT_INTERNAL


# These parse their own options.
DELEGATED = {"ci": "flowwarden.entry.ci", "audit": "flowwarden.entry.audit"}


def _dispatch(argv: list[str], out: TextIO, err: TextIO, env: dict[str, str]) -> int:
    if len(argv) >= 2 and argv[0] == "-C":
        os.chdir(argv[1])
        argv = argv[2:]
    if argv and argv[0] in DELEGATED:
        import importlib

        module = importlib.import_module(DELEGATED[argv[0]])
        return int(module.main(argv[1:], env, out))
    ns = _hook_fast_path(argv)
    if ns is None:
        try:
            ns = build_parser().parse_args(argv)
        except SystemExit as exc:
            return int(exc.code or 0) and EXIT_USAGE
    ns.format = getattr(ns, "format", "text")
    ns.color = getattr(ns, "color", "auto")
    if ns.directory != ".":
        os.chdir(ns.directory)
    from flowwarden.entry import commands

    handler = getattr(commands, "cmd_" + ns.command.replace("-", "_"))
    code: int = handler(ns, out, err, env)
    return code


def _hook_fast_path(argv: list[str]) -> argparse.Namespace | None:
    """`hook STAGE ARGS...` as git shims call it, parsed without argparse: hooks run on every
    commit, and importing and building the parser is a measurable share of that."""
    if len(argv) < 2 or argv[0] != "hook" or argv[1].startswith("-"):
        return None
    from types import SimpleNamespace

    ns: argparse.Namespace = SimpleNamespace(  # type: ignore[assignment]
        command="hook", stage=argv[1], args=argv[2:], directory=".")
    return ns


def emit(outcome: Outcome, what: str, ns: argparse.Namespace, stream: TextIO,
         env: dict[str, str], json_stream: TextIO | None = None, local: bool = True) -> int:
    """Print an outcome in the chosen format and return its exit code."""
    code = EXIT_VIOLATION if outcome.blocking else EXIT_OK
    if ns.format == "json":
        from flowwarden.report import json as json_report

        (json_stream or stream).write(json_report.render(outcome, what, code) + "\n")
    elif outcome.violations or outcome.notes:
        from flowwarden.report import text

        color = text.use_color(ns.color, stream, env)
        stream.write(text.render(outcome, what, color, local) + "\n")
    return code

