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

    hook = sub.add_parser("hook", parents=[common], help="run as a git hook (shims call this)",
                          description="Run as the git hook STAGE; shims and the pre-commit "
                          "framework call this, with git's own hook arguments.")
    hook.add_argument("stage", help="the git hook name, or auto / auto-msg under pre-commit")
    hook.add_argument("args", nargs=argparse.REMAINDER, help="git's hook arguments")

    check = sub.add_parser(
        "check", parents=[common],
        help="ask the policy about a branch or a merge, changing nothing",
        description="Ask the policy about a branch name (which kind it is, where it may come "
        "from) or a merge, changing nothing. Exit 1 if the policy refuses it.")
    check.add_argument("--branch", metavar="NAME",
                       help="a branch name: the kind it matches, and its history if it exists")
    check.add_argument("--merge", metavar="SOURCE", help="the branch to merge (with --into)")
    check.add_argument("--into", metavar="TARGET", help="the branch it would merge into")

    sub.add_parser("rules", parents=[common], help="list the rules and their severities",
                   description="List every rule with the severity this repository's policy "
                   "gives it.")
    explain = sub.add_parser("explain", parents=[common], help="what a rule checks and why",
                             description="What a rule checks, why, an example, and the fix.")
    explain.add_argument("rule", help="a rule id, as `flowwarden rules` lists them")

    policy = sub.add_parser("policy", parents=[common],
                            help="validate, show or describe the policy",
                            description="Validate, show or describe the policy.")
    actions = policy.add_subparsers(dest="action", required=True, metavar="ACTION",
                                    help="what to do with the policy")
    for name, text in (("validate", "report every error and warning of the policy, in line "
                        "order; exit 2 if it has errors"),
                       ("show", "print the effective policy after `extends`")):
        action = actions.add_parser(name, parents=[common], help=text, description=text)
        action.add_argument("--file", metavar="PATH",
                            help="policy file to read (default: .flowwarden.yaml, else the "
                            "gitflow-ml preset)")
    actions.add_parser("schema", parents=[common], help="print the policy's JSON Schema",
                       description="Print the policy's JSON Schema (for editors and "
                       "check-jsonschema).")
    actions.add_parser("graph", add_help=False, help="draw the branch kinds (`policy graph "
                       "--help`)")
    actions.add_parser("diff", add_help=False, help="what a policy change allows or refuses "
                       "(`policy diff --help`)")

    install = sub.add_parser("install", parents=[common],
                             help="install flowwarden's hooks, chaining to hooks already there",
                             description="Install flowwarden's git hook shims in this "
                             "repository, chaining to hooks already there.")
    install.add_argument("--uninstall", action="store_true", help="remove them again")
    init = sub.add_parser(
        "init", parents=[common], help="set up a repository: policy file, pre-commit, --no-ff",
        description="Write .flowwarden.yaml, add flowwarden to .pre-commit-config.yaml and set "
        "branch.<name>.mergeOptions=--no-ff for the protected branches. Running it again "
        "changes nothing; --undo reverts exactly what it did.")
    init.add_argument("--undo", action="store_true", help="revert what `flowwarden init` did")
    init.add_argument("--preset", default="gitflow-ml",
                      help="the preset .flowwarden.yaml extends (default: gitflow-ml)")
    demo = sub.add_parser(
        "demo", parents=[common],
        help="walk the Git Flow in a scratch repository and show each verdict",
        description="Walk the Git Flow in a scratch repository with flowwarden's hooks and "
        "show each operation's verdict, message and fix.")
    demo.add_argument("--keep", action="store_true",
                      help="leave the scratch repository behind and print its path")
    for name, text in (("ci", "judge a pull/merge request or a pushed range (`ci --help`)"),
                       ("audit", "every violation in the protected branches' history "
                        "(`audit --help`)"),
                       ("test", "run a policy's test cases (`test --help`)"),
                       ("export", "what the forge can enforce natively (`export --help`)")):
        sub.add_parser(name, add_help=False, help=text)  # they parse their own options
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
    given, rest = _leading_options(argv)
    for words in (2, 1):
        if " ".join(rest[:words]) in DELEGATED:
            if "-C" in given:
                os.chdir(given["-C"])
            own = rest[words:]
            if "--format" in given and not any(a.startswith("--format") for a in own):
                own = ["--format", given["--format"], *own]  # `flowwarden --format json ci`
            module = importlib.import_module(DELEGATED[" ".join(rest[:words])])
            return int(module.run(own, env, out, err))
    ns = _hook_fast_path(argv) or boundary.parse(build_parser(), argv)
    ns.format = getattr(ns, "format", "text")
    ns.color = getattr(ns, "color", "auto")
    if ns.directory != ".":
        os.chdir(ns.directory)
    handler = getattr(commands, "cmd_" + ns.command.replace("-", "_"))
    code: int = handler(ns, out, err, env)
    return code


def _leading_options(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """The global options given before the command (`--format json audit`), and the rest."""
    given: dict[str, str] = {}
    rest = list(argv)
    while rest and (rest[0] in ("-C", "--format", "--color") or
                    rest[0].startswith(("--format=", "--color="))):
        option, _, value = rest.pop(0).partition("=")
        given[option] = value or (rest.pop(0) if rest else "")
    return given, rest


def _hook_fast_path(argv: list[str]) -> argparse.Namespace | None:
    """`hook STAGE ARGS...` as git shims call it, parsed without building the parser: hooks
    run on every commit, and building it is a measurable share of that."""
    if len(argv) < 2 or argv[0] != "hook" or argv[1].startswith("-"):
        return None
    from types import SimpleNamespace

    ns: argparse.Namespace = SimpleNamespace(  # type: ignore[assignment]
        command="hook", stage=argv[1], args=argv[2:], directory=".")
    return ns
