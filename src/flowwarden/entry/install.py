"""`flowwarden install`: put the hook shims in place, keeping any hook that was there."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

from flowwarden.adapters.git import GitRepo

WORKTREE_STAGES = ("pre-commit", "pre-merge-commit", "commit-msg", "prepare-commit-msg",
                   "pre-push", "post-checkout")
SERVER_STAGES = ("pre-receive",)
STDIN_STAGES = ("pre-push", "pre-receive")
MARKER = "# installed by flowwarden install"
CHAINED = ".pre-flowwarden"


def shim(stage: str) -> str:
    """A hook that runs flowwarden with this Python, then the hook it replaced, if any."""
    command = f"{shlex.quote(sys.executable)} -m flowwarden hook {stage} \"$@\""
    if stage in STDIN_STAGES:  # both consumers need git's stdin
        run = f'input=$(cat)\nprintf \'%s\\n\' "$input" | {command}'
        chained = 'printf \'%s\\n\' "$input" | "$chained" "$@"'
    else:
        run, chained = command, '"$chained" "$@"'
    return (f"#!/bin/sh\n{MARKER}: the {stage} policy check, then the hook it replaced.\n"
            f'chained="$0{CHAINED}"\n'
            f"{run} || exit $?\n"
            f'if [ -x "$chained" ]; then {chained} || exit $?; fi\n')


def hooks_dir(repo: GitRepo) -> Path:
    path = Path(repo.git("rev-parse", "--git-path", "hooks").decode().strip())
    return path if path.is_absolute() else repo.cwd / path


def install(repo: GitRepo) -> list[str]:
    directory = hooks_dir(repo)
    directory.mkdir(parents=True, exist_ok=True)
    report = []
    for stage in SERVER_STAGES if repo.root is None else WORKTREE_STAGES:
        target = directory / stage
        note = ""
        if target.exists() and MARKER not in target.read_text(errors="replace"):
            target.replace(directory / (stage + CHAINED))
            note = f" (the previous hook runs after it: {stage}{CHAINED})"
        target.write_text(shim(stage))
        target.chmod(0o755)
        report.append(f"installed {target}{note}")
    return report


def uninstall(repo: GitRepo) -> list[str]:
    directory = hooks_dir(repo)
    report = []
    for stage in (*WORKTREE_STAGES, *SERVER_STAGES):
        target = directory / stage
        if not target.exists() or MARKER not in target.read_text(errors="replace"):
            continue
        previous = directory / (stage + CHAINED)
        if previous.exists():
            previous.replace(target)
            report.append(f"restored the previous {stage} hook")
        else:
            target.unlink()
            report.append(f"removed {target}")
    return report or ["nothing to remove: no hook installed by flowwarden"]
