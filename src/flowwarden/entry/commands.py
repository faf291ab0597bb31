"""One function per `flowwarden` subcommand: gather input, run the engine, report.

What only one command needs (install, demo, the schema, prepare-commit-msg's run lookup) is
imported when that command runs: a hook pays for none of it."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from flowwarden.adapters.git import GitRepo
from flowwarden.core.errors import Exit, NotARepository, UsageError
from flowwarden.core.records import BranchQuery, Event, MergeAttempt, Outcome, Push, Severity
from flowwarden.core.stages import Stage
from flowwarden.engine.evaluate import evaluate
from flowwarden.entry.hook import HookCall, build_events, detect_stage, message_source
from flowwarden.entry.output import emit
from flowwarden.entry.policy_test import policy_for
from flowwarden.entry.quiet import planned_policy
from flowwarden.policy.load import load_policy
from flowwarden.policy.model import Policy
from flowwarden.policy.select import commands_policy, home
from flowwarden.report.escape import terminal
from flowwarden.rules import Context, all_rules, rule_by_id

if TYPE_CHECKING:
    import argparse


def local_policy(repo: GitRepo) -> Policy:
    return load_policy(repo.root, repo.common_dir / "flowwarden")


def combine(outcomes: list[Outcome]) -> Outcome:
    return Outcome(tuple(v for o in outcomes for v in o.violations),
                   tuple(n for o in outcomes for n in o.notes))


def run_events(events: list[Event], ctx: Context) -> Outcome:
    return combine([evaluate(event, ctx) for event in events])


def cmd_hook(ns: argparse.Namespace, out: TextIO, err: TextIO, env: dict[str, str]) -> int:
    stage = detect_stage(ns.stage, ns.args, env)
    repo = GitRepo.discover(".")
    if env.get("FLOWWARDEN_HOOK_RAN") == stage.value \
            or env.get("PRE_COMMIT") == "1" and _shim_ran(stage, repo, env):
        return Exit.OK  # flowwarden's shim checks this stage already: check once
    stdin = b""
    if stage in (Stage.PRE_PUSH, Stage.PRE_RECEIVE) and not sys.stdin.isatty():
        stdin = sys.stdin.buffer.read()
    call = HookCall(stage, tuple(ns.args), stdin, env)
    if stage is Stage.PREPARE_COMMIT_MSG:
        return _prepare_message(call, repo, err)
    events = build_events(call, repo)
    if not events:
        return Exit.OK
    if stage is Stage.PRE_RECEIVE:
        outcome = _receive(events, repo, env)
    else:  # the policy's checks stream to stderr: git shows it, and stdout stays for --format
        policy = planned_policy(repo, stage)  # with no checks of its own it runs no command
        commands = commands_policy(stage, repo, events) if policy.checks else None
        outcome = run_events(events, Context(policy, repo, stage, env, err, commands))
    if stage is Stage.POST_CHECKOUT:  # advice only: the checkout already happened
        outcome = Outcome(tuple(v.with_severity(Severity.WARNING) for v in outcome.violations),
                          outcome.notes)
    terminal = _terminal(outcome, ns.format, env)
    try:
        return emit(outcome, _operation(stage, repo), ns.format, ns.color, terminal or err,
                    env, out, local=stage is not Stage.PRE_RECEIVE)
    finally:
        if terminal is not None:
            terminal.close()


def _shim_ran(stage: Stage, repo: GitRepo, env: dict[str, str]) -> bool:
    """Under the framework: did flowwarden's own shim run (or will it run) this stage? It
    says so when it chains to the framework's hook (FLOWWARDEN_HOOK_RAN); when `pre-commit
    install` came second, the shim is the framework's `<stage>.legacy` hook."""
    if env.get("FLOWWARDEN_HOOK_RAN") == stage.value:
        return True
    from flowwarden.entry.install import MARKER, hooks_dir

    try:
        return MARKER in (hooks_dir(repo) / f"{stage.value}.legacy").read_text()
    except OSError:
        return False


def _terminal(outcome: Outcome, fmt: str, env: dict[str, str]) -> TextIO | None:
    """Under the pre-commit framework, the terminal for what a passing hook has to say.

    pre-commit shows a hook's output only when it fails (or with `verbose: true`, which adds
    two lines to every run); a waiver or a warning must not be hidden, so it goes straight to
    the terminal. Without one (a GUI, CI) it goes to stderr, which the framework hides."""
    if env.get("PRE_COMMIT") != "1" or fmt != "text" or outcome.blocking \
            or not (outcome.violations or outcome.notes):
        return None
    try:
        return open("/dev/tty", "w", encoding="utf-8")  # noqa: SIM115 - closed by the caller
    except OSError:
        return None


def _prepare_message(call: HookCall, repo: GitRepo, err: TextIO) -> int:
    """Offer the experiment's new MLflow runs as trailers; never blocks the commit."""
    from pathlib import Path

    from flowwarden.entry.prepare import prepare_message

    if not call.args:
        return Exit.OK
    ctx = Context(local_policy(repo), repo, call.stage, call.env)
    note = prepare_message(ctx, Path(call.args[0]), message_source(call))
    if note:  # run names and ids come from the tracking server: shown, never obeyed
        err.write("\n".join(terminal(line) for line in note.split("\n")) + "\n")
    return Exit.OK


def _receive(events: list[Event], repo: GitRepo, env: dict[str, str]) -> Outcome:
    from flowwarden.facts.history import preload
    from flowwarden.policy.select import policy_changes, split_by_policy

    if not repo.local_branches():
        # An empty repository has nothing to protect yet: the push that seeds it is the
        # adoption, and every push after it is judged.
        return Outcome((), ("this push seeds an empty repository: it is not judged; "
                            "every push after it is",))
    repo.pinned = True  # no ref moves while the hook runs: policies read by revision are kept
    outcomes = []
    for event in events:
        assert isinstance(event, Push)
        _bound(repo, event)
        preload(repo, event)
        notes = tuple(policy_changes(repo, event))
        outcomes.append(Outcome((), notes))
        for policy, _rev, part in split_by_policy(repo, event):
            outcomes.append(evaluate(part, Context(policy, repo, Stage.PRE_RECEIVE, env)))
    return combine(outcomes)


def _bound(repo: GitRepo, push: Push) -> None:
    """Refuse a push of more refs than the default branch's policy allows (`ci:
    max_ref_updates`): its history is read into memory at once, and each ref is judged."""
    from flowwarden.policy.load import load_policy_at

    limit = load_policy_at(repo, home(repo)).ci.max_ref_updates
    if len(push.updates) > limit:
        raise UsageError(
            f"this push updates {len(push.updates)} refs; the server judges at most {limit} "
            "per push (ci: max_ref_updates in the default branch's policy)",
            f"git for-each-ref --format='%(refname)' refs/heads refs/tags | xargs -n {limit} "
            "git push origin  # pushes every branch and tag in batches; deletions go in "
            f"batches of {limit} too: git push origin --delete <ref>...")


def _operation(stage: Stage, repo: GitRepo) -> str:
    branch = repo.current_branch() if repo.root is not None else None
    where = f" on {branch}" if branch else ""
    return {
        Stage.PRE_COMMIT: f"commit{where}",
        Stage.PRE_MERGE_COMMIT: f"merge{where}",
        Stage.COMMIT_MSG: f"commit message{where}",
        Stage.PRE_PUSH: "push",
        Stage.PRE_RECEIVE: "push (server)",
        Stage.POST_CHECKOUT: f"checkout{where}",
    }.get(stage, stage.value)


def cmd_check(ns: argparse.Namespace, out: TextIO, err: TextIO, env: dict[str, str]) -> int:
    if bool(ns.merge) != bool(ns.into) or bool(ns.branch) == bool(ns.merge):
        raise UsageError("use either `check --branch NAME` or `check --merge SOURCE --into TARGET`")
    repo = GitRepo.discover(".")
    ctx = Context(local_policy(repo), repo, Stage.CHECK, env)
    if ns.branch:
        event: Event = BranchQuery(ns.branch)
        kind = ctx.policy.kind_of(ns.branch)
        what = f"branch {ns.branch} (" + (f"kind {kind.name}" if kind else "no kind") + ")"
    else:
        event = MergeAttempt(ns.merge, ns.into, repo.rev_parse(ns.merge), repo.rev_parse(ns.into))
        what = f"merge of {ns.merge} into {ns.into}"
    outcome = evaluate(event, ctx)
    code = emit(outcome, what, ns.format, ns.color, out, env)
    if ns.format == "text" and not outcome.violations:
        out.write(f"ok: {what} is allowed by {ctx.policy.source}\n")
    return code


def _policy_here() -> Policy:
    """The repository's policy; the preset outside a repository. A broken policy is an
    error here as everywhere: listing the preset's severities instead would mislead."""
    try:
        repo = GitRepo.discover(".")
    except NotARepository:
        return load_policy(None)
    return local_policy(repo)


def cmd_rules(ns: argparse.Namespace, out: TextIO, err: TextIO, env: dict[str, str]) -> int:
    policy = _policy_here()
    rows = [(r.id, policy.severity(r.id, r.default_severity).value, r.summary)
            for r in all_rules()]
    if ns.format == "json":
        import json

        out.write(json.dumps([{"id": i, "severity": s, "summary": m} for i, s, m in rows],
                             indent=2) + "\n")
        return Exit.OK
    width = max(len(r[0]) for r in rows)
    for rule_id, severity, summary in rows:
        out.write(f"{rule_id:<{width}}  {severity:<7}  {summary}\n")
    return Exit.OK


def cmd_explain(ns: argparse.Namespace, out: TextIO, err: TextIO, env: dict[str, str]) -> int:
    from flowwarden.policy.schema import did_you_mean

    rule = rule_by_id(ns.rule)
    if rule is None:
        ids = [r.id for r in all_rules()]
        raise UsageError(f"unknown rule '{ns.rule}'{did_you_mean(ns.rule, ids)}; "
                         "`flowwarden rules` lists them")
    stages = ", ".join(sorted(s.value for s in rule.stages))
    if ns.format == "json":
        import json

        out.write(json.dumps({"id": rule.id, "summary": rule.summary,
                              "severity": rule.default_severity.value,
                              "stages": sorted(s.value for s in rule.stages),
                              "doc": rule.doc}, indent=2) + "\n")
        return Exit.OK
    out.write(f"# {rule.id}\n\n{rule.summary}\n\nDefault severity: "
              f"{rule.default_severity.value}. Checked at: {stages}.\n\n{rule.doc}")
    return Exit.OK


def cmd_policy(ns: argparse.Namespace, out: TextIO, err: TextIO, env: dict[str, str]) -> int:
    import json

    if ns.action == "schema":
        from flowwarden.policy.schema import schema

        out.write(json.dumps(schema(), indent=2) + "\n")
        return Exit.OK
    if ns.action == "validate":
        from flowwarden.entry.validate import validate_command

        return validate_command(ns.file, ns.format, out)
    policy = policy_for(ns.file)  # show
    if ns.format == "json":
        out.write(json.dumps(policy.document, indent=2) + "\n")
    else:
        import yaml

        out.write(f"# effective policy from {policy.source}\n")
        out.write(yaml.safe_dump(dict(policy.document), sort_keys=False))
    return Exit.OK


def cmd_install(ns: argparse.Namespace, out: TextIO, err: TextIO, env: dict[str, str]) -> int:
    from flowwarden.entry.install import install, uninstall

    repo = GitRepo.discover(".")
    lines = uninstall(repo) if ns.uninstall else install(repo)
    if ns.format == "json":
        import json

        out.write(json.dumps({"changes": lines}, indent=2) + "\n")
    else:
        out.write("\n".join(lines) + "\n")
    return Exit.OK


def cmd_init(ns: argparse.Namespace, out: TextIO, err: TextIO, env: dict[str, str]) -> int:
    from flowwarden.entry.init import init, undo

    repo = GitRepo.discover(".")
    changes = undo(repo) if ns.undo else init(repo, ns.preset)
    if ns.format == "json":
        import json

        out.write(json.dumps({"changes": changes}, indent=2) + "\n")
    else:
        out.write("\n".join(changes or ["flowwarden init: nothing to change"]) + "\n")
    return Exit.OK


def cmd_demo(ns: argparse.Namespace, out: TextIO, err: TextIO, env: dict[str, str]) -> int:
    from flowwarden.entry.demo import run_demo

    return run_demo(out, env, ns.format, ns.keep)

