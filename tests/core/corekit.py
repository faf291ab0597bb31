"""Helpers for the core tests: histories built with hooks off, remotes, and verdict checks."""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from fwkit import HOOKS, Repo, Result

CORE_RULES = ("branch-name", "protected-branch", "merge-target", "branch-origin",
              "force-push", "branch-delete", "protected-history")

NO_HOOKS = ("-c", f"core.hooksPath={os.devnull}")
TRACEBACK = "Traceback (most recent call last)"


def quiet(repo: Repo, *args: str) -> Result:
    """Run git with every hook off: builds the history a test starts from."""
    return repo.git(*NO_HOOKS, *args)


def commit_quiet(repo: Repo, rel: str, content: str | None = None,
                 message: str | None = None) -> str:
    repo.write(rel, content if content is not None else f"{rel}\n")
    quiet(repo, "add", rel)
    quiet(repo, "commit", "-qm", message or f"Change {rel}")
    return repo.sha()


def branch_with_commit(repo: Repo, branch: str, base: str, rel: str | None = None) -> str:
    """Create `branch` from `base` with one commit on it; leaves `branch` checked out."""
    quiet(repo, "switch", "-q", "-c", branch, base)
    return commit_quiet(repo, rel or f"{branch.replace('/', '-')}.txt")


def merge_quiet(repo: Repo, target: str, source: str, message: str | None = None,
                ff: bool = False) -> str:
    quiet(repo, "switch", "-q", target)
    args = ["merge", "-q", "--ff-only" if ff else "--no-ff"]
    if message and not ff:
        args += ["-m", message]
    quiet(repo, *args, source)
    return repo.sha()


def add_bare_remote(repo: Repo, path: Path, name: str = "origin",
                    branches: tuple[str, ...] = ("main", "develop"),
                    server_hooks: bool = False) -> Repo:
    """A bare repository at `path`, added as `name` by file:// URL, with `branches` pushed."""
    bare = Repo(path, repo.env)
    path.mkdir(parents=True)
    bare.git("init", "-q", "--bare", "-b", "main")
    if server_hooks:
        bare.git("config", "core.hooksPath", str(HOOKS))
    repo.git("remote", "add", name, path.resolve().as_uri())
    if branches:
        quiet(repo, "push", "-q", "--no-verify", name, *branches)
    return bare


def remote_sha(bare: Repo, branch: str) -> str | None:
    result = bare.git("rev-parse", "-q", "--verify", f"refs/heads/{branch}", check=False)
    return result.out.strip() if result.code == 0 else None


def rules_in(text: str) -> set[str]:
    return {rule for rule in CORE_RULES if re.search(rf"(?<![\w-]){re.escape(rule)}(?![\w-])",
                                                     text)}


def assert_blocked(result: Result, rule: str, *words: str) -> None:
    """Refused by `rule`, with a fix line and the key words, and no traceback."""
    assert result.code != 0, f"expected {rule} to refuse, got exit 0:\n{result.text}"
    assert rule in rules_in(result.text), f"{rule} not named:\n{result.text}"
    assert "fix:" in result.text, f"no fix line:\n{result.text}"
    for word in words:
        assert word in result.text, f"{word!r} missing:\n{result.text}"
    assert TRACEBACK not in result.text, result.text


def assert_passes(result: Result) -> None:
    """Allowed, without noise: exit 0 and no rule named."""
    assert result.code == 0, f"expected a pass, got {result.code}:\n{result.text}"
    assert not rules_in(result.text), f"unexpected rule output:\n{result.text}"
    assert TRACEBACK not in result.text, result.text


def tree_digest(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every file under `root` (relative path -> sha256), `skip` prefixes left out."""
    digest = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if rel.startswith(skip):
                continue
            digest[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest
