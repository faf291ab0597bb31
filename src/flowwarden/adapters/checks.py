"""Running the policy's check commands (tests before a merge) in a work tree."""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple, TextIO

from flowwarden.core import proc

# Variables git sets for a hook that would point a check's own git calls at this repository's
# index or directory; identity, config and transport settings pass through.
_HOOK_GIT_VARS = ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_PREFIX",
                  "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
                  "GIT_QUARANTINE_PATH", "GIT_REFLOG_ACTION")


class Check(NamedTuple):
    """One `checks:` entry: a command that must pass before a merge into `targets`."""

    name: str
    argv: tuple[str, ...]
    targets: tuple[str, ...]  # branch names or branch kinds
    timeout: float | None = None

    @property
    def command(self) -> str:
        import shlex  # only a check that runs or fails needs it

        return shlex.join(self.argv)


class CheckResult(NamedTuple):
    check: Check
    code: int | None  # None: the command could not start or timed out
    seconds: float
    problem: str | None = None

    @property
    def passed(self) -> bool:
        return self.code == 0


def check_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in _HOOK_GIT_VARS}


def run_check(check: Check, why: str, cwd: str | os.PathLike[str], env: Mapping[str, str],
              out: TextIO) -> CheckResult:
    """Run one check in `cwd`, its output streamed to `out` between a start line (saying
    `why`, e.g. "before merging into develop") and an end line with its duration."""
    out.write(f"flowwarden: check '{check.name}' {why}: {check.command}\n")
    out.flush()
    ended = proc.stream(check.argv, out, cwd=cwd, env=check_env(env), timeout=check.timeout)
    result = CheckResult(check, ended.code, ended.seconds, ended.problem)
    verdict = "passed" if result.passed else "FAILED"
    out.write(f"flowwarden: check '{check.name}' {verdict} in {result.seconds:.1f} s\n")
    out.flush()
    return result
