"""Tests before merge: the policy's `checks:` commands, run before a merge into their targets."""
from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from typing import Any, NamedTuple, TextIO

from flowwarden.core.records import Severity, Violation
from flowwarden.policy.model import Policy
from flowwarden.rules.base import Context

RULE_ID = "tests-before-merge"

# Variables git sets for a hook that would point a check's own git calls at this repository's
# index or directory; identity, config and transport settings pass through.
_HOOK_GIT_VARS = ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_PREFIX",
                  "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
                  "GIT_QUARANTINE_PATH", "GIT_REFLOG_ACTION")


class Check(NamedTuple):
    name: str
    argv: tuple[str, ...]
    targets: tuple[str, ...]  # branch names or branch kinds
    timeout: float | None = None

    @property
    def command(self) -> str:
        import shlex

        return shlex.join(self.argv)


class CheckResult(NamedTuple):
    check: Check
    code: int | None  # None: the command could not start or timed out
    seconds: float
    problem: str | None = None


def checks_for(policy: Policy, target: str) -> tuple[Check, ...]:
    """The checks whose `before_merge_into` names `target` or its branch kind."""
    kind = policy.kind_of(target)
    names = {target} | ({kind.name} if kind else set())
    return tuple(c for c in map(_parse, policy.document.get("checks") or [])
                 if names & set(c.targets))


def _parse(entry: Mapping[str, Any]) -> Check:
    timeout = entry.get("timeout")
    return Check(str(entry["name"]), tuple(str(a) for a in entry["run"]),
                 tuple(entry.get("before_merge_into", ())),
                 float(timeout) if timeout is not None else None)


def check_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in _HOOK_GIT_VARS}


def run_check(check: Check, cwd: str | os.PathLike[str], env: Mapping[str, str],
              out: TextIO) -> CheckResult:
    """Run one check with its output streamed to `out` as it comes."""
    import threading  # only merges with checks pay for it

    start = time.monotonic()
    try:
        child = subprocess.Popen(list(check.argv), cwd=cwd, env=check_env(env),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT)
    except OSError as error:
        return CheckResult(check, None, time.monotonic() - start,
                           f"`{check.argv[0]}` could not start: {error.strerror}")
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        child.kill()

    timer = threading.Timer(check.timeout, kill) if check.timeout else None
    if timer:
        timer.start()
    assert child.stdout is not None
    for line in child.stdout:
        out.write(line.decode("utf-8", "replace"))
        out.flush()
    code = child.wait()
    if timer:
        timer.cancel()
    seconds = time.monotonic() - start
    if timed_out.is_set():
        return CheckResult(check, None, seconds, f"timed out after {check.timeout:g} s")
    return CheckResult(check, code, seconds)


def violation(result: CheckResult, target: str) -> Violation | None:
    if result.code == 0:
        return None
    what = result.problem or f"exited {result.code}"
    check = result.check
    return Violation(
        RULE_ID, check.name,
        f"check '{check.name}' ({check.command}) {what} after {result.seconds:.1f} s; "
        f"it must pass before merging into {target}",
        f"{check.command}  # make it pass, then merge again", Severity.ERROR)


def run_before_merge(ctx: Context, target: str, out: TextIO) -> tuple[Violation, ...]:
    """Run every check for `target` in the work tree; one violation per failing check."""
    severity = ctx.policy.severity(RULE_ID, Severity.ERROR)
    checks = checks_for(ctx.policy, target)
    if not checks or severity is Severity.OFF:
        return ()
    if ctx.repo.root is None:
        return (Violation(RULE_ID, target, f"{len(checks)} check(s) for merges into {target} "
                          "cannot run in a bare repository; run them in CI",
                          "flowwarden ci  # in the CI job that runs the tests",
                          Severity.WARNING),)
    found = []
    for check in checks:
        out.write(f"flowwarden: check '{check.name}' before merging into {target}: "
                  f"{check.command}\n")
        out.flush()
        result = run_check(check, ctx.repo.root, ctx.env, out)
        verdict = "passed" if result.code == 0 else "FAILED"
        out.write(f"flowwarden: check '{check.name}' {verdict} in {result.seconds:.1f} s\n")
        out.flush()
        failed = violation(result, target)
        if failed is not None:
            found.append(failed.with_severity(severity))
    return tuple(found)
