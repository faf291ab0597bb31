"""`flowwarden init`: the policy file, the pre-commit hooks and --no-ff merges for the
protected branches, set up once; `--undo` reverts exactly what it did.

What it did is recorded in `.git/flowwarden/init.json`: each file it created (with the
content it wrote), each block it added to a file, each git setting with its value before."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flowwarden.adapters.git import GitRepo
from flowwarden.core.errors import UsageError
from flowwarden.policy.load import POLICY_FILE, load_policy

SCHEMA_FILE = ".flowwarden.schema.json"
PRE_COMMIT_FILE = ".pre-commit-config.yaml"
HOOK_TYPES = ("pre-commit", "pre-merge-commit", "commit-msg", "prepare-commit-msg",
              "pre-push", "post-checkout")
PLACEHOLDER_REPO, PLACEHOLDER_REV = "<url of the flowwarden repository>", "<tag or commit>"

POLICY_TEXT = """\
# yaml-language-server: $schema=./{schema}
# The Git Flow policy flowwarden enforces. `flowwarden policy validate` checks this file,
# `flowwarden policy show` prints it merged with the preset, `flowwarden rules` lists rule ids.
extends: {preset}

# Branch kinds, merged over the preset's by name; the first kind whose pattern matches wins.
# branches:
#   bugfix:
#     pattern: "bugfix/[a-z0-9][a-z0-9._-]*"
#     from: [develop]
#     into: [develop]

# Per-rule settings: severity error | warning | off.
# rules:
#   branch-origin: {{severity: warning}}

# Data that belongs in DVC, not git.
# data:
#   extra_patterns: ["*.bin"]
#   max_size: "5 MB"

# MLflow: CI and the server need a tracking server they can reach, not sqlite:///mlflow.db.
# runs:
#   tracking_uri: "https://mlflow.example.com"
#   metrics:
#     val_accuracy: ">= 0.90"
"""


CASES_FILE = ".flowwarden.cases.yaml"
CASES_TEXT = """\
# Test cases for .flowwarden.yaml: `flowwarden test .flowwarden.cases.yaml` runs them, and CI
# runs them on every change (see docs/authoring.md for every kind of case).
- check: {merge: feature/x, into: main}
  expect: {refused: merge-target}
- check: {merge: feature/x, into: develop}
  expect: {allowed: true}
- check: {branch: feature/ok}
  expect: {allowed: true}
"""


def _hook_entry(indent: str, gap: str = " ") -> str:
    """flowwarden's item of `repos:`, its dash at `indent` followed by `gap`."""
    repo, rev = installed_source()
    keys = indent + " " * (1 + len(gap))
    return (f"{indent}-{gap}repo: {repo}\n{keys}rev: {rev}\n{keys}hooks:\n"
            f"{keys}  - id: flowwarden\n{keys}  - id: flowwarden-commit-msg\n")


def installed_source() -> tuple[str, str]:
    """The repository and commit this flowwarden was installed from (pip records a VCS
    install in direct_url.json), so pre-commit pins the same version; else placeholders."""
    from importlib import metadata

    try:
        text = metadata.distribution("flowwarden").read_text("direct_url.json")
        data = json.loads(text or "{}")
    except (metadata.PackageNotFoundError, ValueError):
        return PLACEHOLDER_REPO, PLACEHOLDER_REV
    vcs = data.get("vcs_info") if isinstance(data, dict) else None
    if not isinstance(vcs, dict) or vcs.get("vcs") != "git" or "commit_id" not in vcs:
        return PLACEHOLDER_REPO, PLACEHOLDER_REV
    return str(data["url"]), str(vcs.get("requested_revision") or vcs["commit_id"])


def _record_path(repo: GitRepo) -> Path:
    return repo.common_dir / "flowwarden" / "init.json"


def _load_record(repo: GitRepo) -> dict[str, Any]:
    try:
        data = json.loads(_record_path(repo).read_text())
    except (OSError, ValueError):
        data = {}
    record: dict[str, Any] = data if isinstance(data, dict) else {}
    for key in ("created", "added", "config"):
        record.setdefault(key, {})
    return record


def init(repo: GitRepo, preset: str) -> list[str]:
    """Set the repository up; return one line per change (none: it was set up already)."""
    if repo.root is None:
        raise UsageError("flowwarden init needs a work tree (this is a bare repository)")
    from flowwarden.policy.schema import schema

    record, changes = _load_record(repo), []
    schema_text = json.dumps(schema(), indent=2) + "\n"
    try:  # what was done is recorded even when a later step refuses
        changes += _create(repo.root, SCHEMA_FILE, schema_text, record,
                           replace=SCHEMA_FILE in record["created"])
        changes += _create(repo.root, POLICY_FILE,
                           POLICY_TEXT.format(schema=SCHEMA_FILE, preset=preset), record)
        changes += _create(repo.root, CASES_FILE, CASES_TEXT, record)
        changes += _pre_commit(repo.root, record)
        changes += _gitignore(repo.root, record)
        changes += _no_ff(repo, record)
    finally:
        if changes:
            _record_path(repo).parent.mkdir(parents=True, exist_ok=True)
            _record_path(repo).write_text(json.dumps(record, indent=2) + "\n")
    if changes:
        if PLACEHOLDER_REPO in (repo.root / PRE_COMMIT_FILE).read_text():
            changes.append(f"note: set `repo:` and `rev:` of flowwarden in {PRE_COMMIT_FILE} "
                           "(this flowwarden was not installed from a git URL)")
        changes.append("next: `pre-commit install` (the hook types are in the config); "
                       "`flowwarden init --undo` reverts all of this")
    return changes


def _create(root: Path, rel: str, text: str, record: dict[str, Any],
            replace: bool = False) -> list[str]:
    path = root / rel
    if path.exists() and not (replace and path.read_text() != text):
        return []
    verb = "updated" if path.exists() else "created"
    path.write_text(text)
    record["created"][rel] = text
    return [f"{verb} {rel}"]


def _pre_commit(root: Path, record: dict[str, Any]) -> list[str]:
    import yaml

    path = root / PRE_COMMIT_FILE
    types = f"default_install_hook_types: [{', '.join(HOOK_TYPES)}]\n"
    if not path.exists():
        text = types + "repos:\n" + _hook_entry("  ")
        path.write_text(text)
        record["created"][PRE_COMMIT_FILE] = text
        return [f"created {PRE_COMMIT_FILE} (flowwarden's hooks, for every hook type they use)"]
    old_text = path.read_text()
    old = yaml.safe_load(old_text) or {}
    repos = old.get("repos") if isinstance(old, dict) else None
    hook_ids = {h.get("id") for r in repos or () if isinstance(r, dict)
                for h in r.get("hooks") or () if isinstance(h, dict)}
    if "flowwarden" in hook_ids:
        return []
    block = _block(old_text, repos)
    new_text = old_text + ("" if old_text.endswith("\n") else "\n") + block
    if "default_install_hook_types" not in old:
        new_text = types + new_text
    try:
        new = yaml.safe_load(new_text)
    except yaml.YAMLError:
        new = None
    expected = {"default_install_hook_types": list(HOOK_TYPES), **old,
                "repos": [*(repos or []), *yaml.safe_load(_hook_entry(""))]}
    if new != expected:
        raise UsageError(f"cannot add flowwarden to {PRE_COMMIT_FILE} without rewriting it "
                         "(its `repos:` is not the last block of the file)",
                         f"add this under repos: in {PRE_COMMIT_FILE} by hand:\n"
                         + _hook_entry("  "))
    path.write_text(new_text)
    record["added"][PRE_COMMIT_FILE] = {"before": old_text, "after": new_text}
    return [f"added flowwarden's hooks to {PRE_COMMIT_FILE}"]


#: MLflow's local tracking stores, which never belong in git (dvc-untracked-data refuses them).
STORE_IGNORES = ("mlflow.db", "mlruns/", "mlartifacts/")


def _gitignore(root: Path, record: dict[str, Any]) -> list[str]:
    """Append the MLflow store entries `.gitignore` lacks (an existing file is kept, its
    lines untouched); create it when there is none."""
    path = root / ".gitignore"
    old_text = path.read_text() if path.exists() else ""
    have = {line.strip().strip("/") for line in old_text.splitlines()}
    missing = [e for e in STORE_IGNORES if e.strip("/") not in have]
    if not missing:
        return []
    block = "# MLflow's local tracking stores (added by `flowwarden init`)\n" + "".join(
        f"{e}\n" for e in missing)
    if not path.exists():
        path.write_text(block)
        record["created"][".gitignore"] = block
        return ["created .gitignore (MLflow's local tracking stores stay out of git)"]
    new_text = old_text + ("" if old_text.endswith("\n") or not old_text else "\n") + block
    path.write_text(new_text)
    record["added"][".gitignore"] = {"before": old_text, "after": new_text}
    return [f"added {', '.join(missing)} to .gitignore (MLflow's local tracking stores)"]


def _block(text: str, repos: object) -> str:
    """The lines to append: a new `repos:` key, or one more item of the last one, indented
    as its items are."""
    header = "# flowwarden: the Git Flow policy (added by `flowwarden init`)\n"
    if repos is None:
        return header + "repos:\n" + _hook_entry("  ")
    import re

    item = re.search(r"^( *)-( +)repo:", text, re.M)
    indent, gap = (item[1], item[2]) if item else ("  ", " ")
    return indent + header + _hook_entry(indent, gap)


def _protected_names(repo: GitRepo) -> list[str]:
    """The protected branches by name: those this clone has, else the first name each
    protected kind's pattern was written for."""
    from flowwarden.entry.validate import sample_names

    policy = load_policy(repo.root)
    branches = {*repo.local_branches(), *repo.remote_branches("origin")}
    names: list[str] = []
    for kind in policy.protected_kinds:
        have = sorted(b for b in branches if kind.matches(b))
        names += have or sample_names(kind)[:1]
    return names


def _no_ff(repo: GitRepo, record: dict[str, Any]) -> list[str]:
    changes = []
    for name in _protected_names(repo):
        key = f"branch.{name}.mergeOptions"
        before = repo.git("config", "--get", key, check=False).decode().strip() or None
        if before == "--no-ff":
            continue
        repo.git("config", key, "--no-ff")
        record["config"].setdefault(key, before)
        changes.append(f"set git config {key}=--no-ff (a merge into {name} never "
                       "fast-forwards by accident)")
    return changes


def undo(repo: GitRepo) -> list[str]:
    """Revert what `init` recorded; a file changed since is kept, and said so."""
    record, changes = _load_record(repo), []
    root = repo.root or Path(".")
    for rel, text in record["created"].items():
        path = root / rel
        if path.exists() and path.read_text() == text:
            path.unlink()
            changes.append(f"removed {rel}")
        elif path.exists():
            changes.append(f"kept {rel}: it changed since `flowwarden init` wrote it")
    for rel, edit in record["added"].items():
        path = root / rel
        if path.exists() and path.read_text() == edit["after"]:
            path.write_text(edit["before"])
            changes.append(f"restored {rel} as it was before `flowwarden init`")
        elif path.exists():
            changes.append(f"kept {rel}: it changed since; remove flowwarden's block by hand")
    for key, before in record["config"].items():
        if before is None:
            repo.git("config", "--unset", key, check=False)
            changes.append(f"unset git config {key}")
        else:
            repo.git("config", key, before)
            changes.append(f"restored git config {key}={before}")
    _record_path(repo).unlink(missing_ok=True)
    return changes
