"""prepare-commit-msg: offer the runs an experiment branch just made as trailers.

On a branch of a `runs.branches` kind, the runs tagged with this branch and started since
its last commit are appended as `MLflow-Run-Id: <id>` trailers, ready to keep or delete.
A store that cannot answer never fails the commit: the caller prints the note instead.
"""
from __future__ import annotations

from pathlib import Path

from flowwarden.adapters.git.messages import SCISSORS, trailer_block
from flowwarden.adapters.mlflow import RUN_ID, Run, StoreUnreachable
from flowwarden.policy.runs import RunSettings
from flowwarden.rules.base import Context

# git's own sources for a message it wrote itself; those are left alone.
SKIPPED_SOURCES = frozenset({"merge", "squash"})


def prepare_message(ctx: Context, message_path: Path, source: str | None) -> str | None:
    """Append trailers for this branch's new runs to the message file; a note to print."""
    cfg = ctx.policy.runs
    branch = ctx.repo.current_branch()
    kind = ctx.policy.kind_of(branch)
    if branch is None or kind is None or kind.name not in cfg.kinds \
            or source in SKIPPED_SOURCES:
        return None
    try:
        runs = ctx.facts.runs.runs_since_last_commit(branch)
    except StoreUnreachable as error:
        return f"flowwarden: could not offer MLflow runs for {branch}: {error}"
    text = message_path.read_text(encoding="utf-8", errors="surrogateescape")
    present = set(RUN_ID.findall(text))
    fresh = [r for r in runs if r.id not in present]
    offered = [r for r in fresh if r.status in cfg.statuses]
    if offered:
        message_path.write_text(with_trailers(text, [f"{cfg.trailer}: {r.id}" for r in offered]),
                                encoding="utf-8", errors="surrogateescape")
    return _note(cfg, branch, offered, [r for r in fresh if r not in offered])


def with_trailers(text: str, trailers: list[str]) -> str:
    """`text` with `trailers` at the end of the message, above git's comment block.

    An empty message (the editor's template) gets a blank subject line, then the trailers,
    so the subject typed on line one stays a paragraph of its own.
    """
    lines = text.splitlines(keepends=True)
    end = next((i for i, line in enumerate(lines) if line.rstrip("\n") == SCISSORS), len(lines))
    while end > 0 and (lines[end - 1].startswith("#") or not lines[end - 1].strip()):
        end -= 1
    body, tail = "".join(lines[:end]).rstrip("\n"), "".join(lines[end:]).lstrip("\n")
    block = "\n".join(trailers) + "\n"
    if not body.strip():
        message = "\n\n" + block
    elif trailer_block(body):
        message = body + "\n" + block  # join the existing trailer block
    else:
        message = body + "\n\n" + block
    return message + ("\n" + tail if tail else "")


def _note(cfg: RunSettings, branch: str, offered: list[Run], others: list[Run]) -> str | None:
    parts = []
    if offered:
        names = ", ".join(f"{r.id} ({r.name or 'unnamed'})" for r in offered)
        parts.append(f"flowwarden: added {cfg.trailer} for the runs of {branch} since its "
                     f"last commit: {names}; delete the lines you do not want")
    if others:
        names = ", ".join(f"{r.id} ({r.status})" for r in others)
        lead = "" if offered else "flowwarden: "
        parts.append(f"{lead}not offered, status is not {'/'.join(cfg.statuses)}: {names}")
    return "; ".join(parts) or None

