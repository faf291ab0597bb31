"""prepare-commit-msg: offer the runs an experiment branch just made as trailers.

On a branch of a `runs.branches` kind, the runs tagged with this branch and started since
its last commit are offered as `MLflow-Run-Id: <id>` trailers. A sweep (a parent run and its
child trials) is offered once, as its parent. Runs left out are listed with the reason:
another status, or no `mlflow.source.git.*` tags (notebooks).

Where the offer goes (`runs.offer`): `editor` (the default) writes the trailers into the
message only when git opens an editor, where the author deletes what they do not want; with
`git commit -m`/`-F` nobody would see them before the commit is made, so the runs are only
listed on stderr. `always` writes them, `never` only lists them. A store that cannot answer
never fails the commit: the caller prints the note instead.
"""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import NamedTuple

from flowwarden.adapters.git.messages import SCISSORS, trailer_block
from flowwarden.adapters.mlflow import COMMIT_TAG, RUN_ID, Run, StoreUnreachable
from flowwarden.core.redact import redact
from flowwarden.policy.runs import RunSettings
from flowwarden.rules.base import Context
from flowwarden.rules.cited_runs import best_child

# git's own sources for a message it wrote itself; those are left alone.
SKIPPED_SOURCES = frozenset({"merge", "squash"})
# Sources with which git opens an editor on the message (no -m, -F, -c, -C).
EDITOR_SOURCES = frozenset({None, "template"})
UNTAGGED = ("no mlflow.source.git.branch tag (a notebook, or a script run outside git?); "
            "cite it by hand if it belongs to this commit")


class Offer(NamedTuple):
    """What the offer found among the runs started since the branch's last commit."""

    offered: list[Run]  # the branch's runs to cite; a sweep appears as its parent
    trials: dict[str, list[Run]]  # a sweep parent's id -> its child runs
    left_out: list[tuple[Run, str]]  # with the reason
    elsewhere: int  # runs of other branches, not listed


def prepare_message(ctx: Context, message_path: Path, source: str | None) -> str | None:
    """Offer this branch's new runs (in the message or on stderr); a note to print."""
    cfg = ctx.policy.runs
    branch = ctx.repo.current_branch()
    kind = ctx.policy.kind_of(branch)
    if branch is None or kind is None or kind.name not in cfg.kinds \
            or source in SKIPPED_SOURCES:
        return None
    try:
        runs = ctx.facts.runs.runs_since_last_commit()
    except StoreUnreachable as error:
        return f"flowwarden: could not offer MLflow runs for {branch}: {redact(str(error))}"
    text = message_path.read_text(encoding="utf-8", errors="surrogateescape")
    offer = plan(cfg, branch, runs, set(RUN_ID.findall(text)))
    write = cfg.offer == "always" or (cfg.offer == "editor" and source in EDITOR_SOURCES)
    if offer.offered and write:
        message_path.write_text(with_trailers(text, [f"{cfg.trailer}: {r.id}"
                                                     for r in offer.offered]),
                                encoding="utf-8", errors="surrogateescape")
    return _note(cfg, branch, offer, write)


def plan(cfg: RunSettings, branch: str, runs: list[Run], present: set[str]) -> Offer:
    """Sort the recent runs: this branch's to offer, sweeps grouped, the rest with reasons."""
    by_id = {r.id: r for r in runs}
    offer = Offer([], {}, [], 0)
    for run in runs:
        parent = by_id.get(run.parent or "")
        if parent is not None and parent.branch in (branch, None):
            offer.trials.setdefault(parent.id, []).append(run)
        elif run.id in present:
            continue
        elif run.branch == branch:
            if run.status in cfg.statuses:
                offer.offered.append(run)
            else:
                offer.left_out.append((run, f"status {run.status}, not "
                                            f"{'/'.join(cfg.statuses)}"))
        elif run.branch is None and COMMIT_TAG not in run.tags:
            offer.left_out.append((run, UNTAGGED))
        else:
            offer = offer._replace(elsewhere=offer.elsewhere + 1)
    return offer


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


def _note(cfg: RunSettings, branch: str, offer: Offer, written: bool) -> str | None:
    lines = []
    if offer.offered:
        names = ", ".join(_describe(cfg, r, offer.trials.get(r.id, [])) for r in offer.offered)
        if written:
            lines.append(f"flowwarden: added {cfg.trailer} for the runs of {branch} since its "
                         f"last commit: {names}; delete the lines you do not want")
        else:
            example = shlex.quote(f"{cfg.trailer}: {offer.offered[0].id}")
            lines.append(f"flowwarden: runs of {branch} since its last commit that this commit "
                         f"could cite: {names}; none was added (no editor to choose in; "
                         f"runs.offer: always adds them): cite one with git commit "
                         f"--trailer {example} (or --amend --no-edit --trailer once made)")
    for run, reason in offer.left_out:
        lines.append(f"flowwarden: not offered: {run.id}{_name(run)}: {reason}")
    if offer.elsewhere and (offer.offered or offer.left_out):
        lines.append(f"flowwarden: {offer.elsewhere} run(s) of other branches not offered")
    return "\n".join(lines) or None


def _describe(cfg: RunSettings, run: Run, trials: list[Run]) -> str:
    text = f"{run.id}{_name(run) or ' (unnamed)'}"
    if not trials:
        return text
    text += f", a sweep of {len(trials)} trials (child runs, not offered one by one)"
    best = best_child(cfg, trials)
    if best is not None and cfg.gates:
        child, _verdict = best
        metric = cfg.gates[0].metric
        value = child.metrics.get(metric)
        shown = f"{value:g}" if value is not None else "missing"
        text += f"; best {metric} {shown} in trial {child.id}{_name(child)}"
    return text


def _name(run: Run) -> str:
    return f" ({run.name})" if run.name else ""
