"""The quiet plan: message stages with nothing to check on this branch skip the interpreter.

A flowwarden run at a commit stage writes, under the git dir, the branch it judged and a copy
of every policy file the policy was read from, when no rule of prepare-commit-msg or
commit-msg applies to that branch (on a feature branch with the preset: the run rules cite
runs on experiment branches only). Those stages' shims read the plan with shell builtins and
`cmp`, and exit 0 without starting Python only while HEAD names that branch and every policy
file is byte for byte its copy; anything else, or any doubt, runs flowwarden.

The plan is keyed by flowwarden itself too: its version file (`flowwarden/__init__.py`) and
its rule registry are listed as files, by their path from the work tree, so an upgrade (or a
reinstall at another rev that changes which rules run at the message stages) re-plans.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from flowwarden.adapters.git import GitRepo
from flowwarden.core.stages import Stage
from flowwarden.policy.load import load_policy
from flowwarden.policy.model import Policy
from flowwarden.rules import REGISTRY

PLAN_DIR = "flowwarden/quiet"  # under the git dir of the work tree (each worktree its own)
HEADER = "flowwarden-quiet 1"
#: The stages a plan can skip, and the stages whose run writes one (pre-commit comes first
#: in every `git commit`, pre-merge-commit in every automatic merge).
QUIET_STAGES = frozenset({Stage.PREPARE_COMMIT_MSG, Stage.COMMIT_MSG})
WRITERS = frozenset({Stage.PRE_COMMIT, Stage.PRE_MERGE_COMMIT, Stage.COMMIT_MSG})
#: Message-stage rules known to report nothing on a branch whose kind is not in
#: `runs.branches`; any other rule at those stages keeps the interpreter.
RUN_RULES = frozenset({"mlflow-run-id", "mlflow-run-unknown", "mlflow-run-status",
                       "mlflow-run-provenance"})
SAFE_PATH = re.compile(r"[A-Za-z0-9._/-]+")  # what the shell reads back unchanged


def planned_policy(repo: GitRepo, stage: Stage) -> Policy:
    """The work tree's policy (as `local_policy`), leaving the quiet plan up to date."""
    seen: dict[str, bytes | None] = {}
    policy = load_policy(repo.root, repo.common_dir / "flowwarden", seen)
    if stage in WRITERS and repo.root is not None:
        branch = repo.current_branch()
        try:
            own = tool_files(repo.root)
            update_plan(repo.git_dir / PLAN_DIR,
                        branch if own and quiet_on(policy, branch) else None, {**seen, **own})
        except OSError:
            pass  # a read-only git dir only costs speed
    return policy


def tool_files(root: Path) -> dict[str, bytes | None]:
    """flowwarden's version file and rule registry, by their path from the work tree `root`
    (where the shims run); {} when there is none (another drive): then no plan is kept."""
    import flowwarden
    from flowwarden import rules

    try:
        return {os.path.relpath(Path(m.__file__ or "").resolve(), root.resolve()):
                Path(m.__file__ or "").read_bytes() for m in (flowwarden, rules)}
    except (ValueError, OSError):
        return {}


def quiet_on(policy: Policy, branch: str | None) -> bool:
    """Whether prepare-commit-msg and commit-msg have nothing to check on `branch`."""
    if branch is None:
        return False
    if any(e.stages & QUIET_STAGES and e.id not in RUN_RULES for e in REGISTRY):
        return False
    kind = policy.kind_of(branch)
    return kind is None or kind.name not in policy.runs.kinds


def plan_text(branch: str, files: dict[str, str | None]) -> str:
    """The plan: `file <copy> <path>` or `absent - <path>` per policy file, then `end`."""
    lines = [HEADER, f"branch {branch}",
             f"stages {' '.join(sorted(s.value for s in QUIET_STAGES))}"]
    lines += [f"file {copy} {path}" if copy else f"absent - {path}"
              for path, copy in files.items()]
    return "\n".join([*lines, "end"]) + "\n"


def update_plan(where: Path, branch: str | None, seen: dict[str, bytes | None]) -> None:
    """Write the plan for `branch` (None: remove it), unless the one there says the same."""
    plan = where / "plan"
    if branch is None or not seen or not all(SAFE_PATH.fullmatch(p) for p in seen):
        if plan.exists():
            plan.unlink()
        return
    if _current(where, branch, seen):
        return
    where.mkdir(parents=True, exist_ok=True)
    generation = f"{os.getpid()}-{os.urandom(4).hex()}"
    files: dict[str, str | None] = {}
    for i, (path, data) in enumerate(seen.items()):
        copy = f"{generation}-{i}" if data is not None else None
        if copy is not None and data is not None:
            _write(where / copy, data)
        files[path] = copy
    _write(plan, plan_text(branch, files).encode())
    keep = {"plan", *(c for c in files.values() if c)}
    for old in where.iterdir():  # copies of earlier plans; a reader of one then runs Python
        if old.name not in keep and not old.name.startswith("."):
            old.unlink()


def _current(where: Path, branch: str, seen: dict[str, bytes | None]) -> bool:
    """Whether the plan there already says `branch` is quiet with exactly these files."""
    try:
        lines = (where / "plan").read_text().splitlines()
        entries = [line.split(" ", 2) for line in lines[3:-1]]
        copies = {path: copy if kind == "file" else None for kind, copy, path in entries}
        if lines[:2] != [HEADER, f"branch {branch}"] or copies.keys() != seen.keys():
            return False
        return all(_same(where, copies[path], data) for path, data in seen.items())
    except (OSError, UnicodeDecodeError, ValueError):
        return False


def _same(where: Path, copy: str | None, data: bytes | None) -> bool:
    if copy is None or data is None:
        return copy is None and data is None
    return (where / copy).read_bytes() == data


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


#: The shell half, shared by hooks/ and `flowwarden install`: POSIX sh, builtins and `cmp`.
SHELL = r"""# A stage with nothing to check on this branch skips the interpreter: the last
# flowwarden run left a plan under the git dir, valid while HEAD names its branch and
# every policy file is byte for byte its copy. Any doubt runs flowwarden.
fw_quiet() {
    fw_dir=${GIT_DIR:-.git}
    if [ -z "${GIT_DIR:-}" ] && [ -f .git ]; then
        IFS= read -r fw_dir < .git || return 1
        case $fw_dir in "gitdir: "?*) fw_dir=${fw_dir#gitdir: } ;; *) return 1 ;; esac
    fi
    fw_plan="$fw_dir/flowwarden/quiet"
    [ -f "$fw_plan/plan" ] && IFS= read -r fw_head < "$fw_dir/HEAD" || return 1
    case $fw_head in "ref: refs/heads/"?*) ;; *) return 1 ;; esac
    {
        IFS= read -r fw_line && [ "$fw_line" = "HEADER" ] || return 1
        IFS= read -r fw_line && [ "$fw_line" = "branch ${fw_head#ref: refs/heads/}" ] || return 1
        IFS= read -r fw_line || return 1
        case " ${fw_line#stages} " in *" $1 "*) ;; *) return 1 ;; esac
        while IFS=' ' read -r fw_kind fw_copy fw_path; do
            case $fw_kind in
                file) cmp -s "./$fw_path" "$fw_plan/$fw_copy" || return 1 ;;
                absent) [ ! -e "./$fw_path" ] && [ ! -L "./$fw_path" ] || return 1 ;;
                end) return 0 ;;
                *) return 1 ;;
            esac
        done
        return 1
    } < "$fw_plan/plan"
}
""".replace("HEADER", HEADER)
