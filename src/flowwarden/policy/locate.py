"""The policy file's form: `.flowwarden.yaml`, a regular file at the top of the repository.

A symbolic link is refused everywhere: on a server it is a blob holding a path, and in a work
tree it may point outside the repository, so what judges would differ between the two. A
`.flowwarden.yml` is never silently ignored: it is reported, with the rename that fixes it.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from flowwarden.core.errors import PolicyError

if TYPE_CHECKING:
    from flowwarden.adapters.git import GitRepo

POLICY_FILE = ".flowwarden.yaml"
ALTERNATE = ".flowwarden.yml"
_SYMLINK = "120000"


def check_form(modes: Mapping[str, str], label: str = "") -> None:
    """Raise a PolicyError when the files at the top (path -> git mode) are not one regular
    `.flowwarden.yaml`, or none at all."""
    for path in (POLICY_FILE, ALTERNATE):
        if modes.get(path) == _SYMLINK:
            raise PolicyError(label + path, 1, 1, (), "is a symbolic link; expected the policy "
                              "itself in a regular file (what a link points to differs between "
                              f"a clone and the server): git rm {path} and commit the file")
    if ALTERNATE in modes:
        what = ("sits next to .flowwarden.yaml, which alone is read"
                if POLICY_FILE in modes else "is not read: flowwarden reads .flowwarden.yaml")
        raise PolicyError(label + ALTERNATE, 1, 1, (), f"{what}; fix: git mv {ALTERNATE} "
                          f"{POLICY_FILE} (or git rm {ALTERNATE})")


def _link_error(label: str) -> PolicyError:
    return PolicyError(label, 1, 1, (), "is a symbolic link, or lies under one; expected a "
                       "regular file inside the repository")


def check_worktree_file(root: Path, rel: str) -> None:
    """An `extends` file must be a regular file inside the repository, reached through no
    symbolic link: a link could point anywhere on the machine."""
    path = root / rel
    if path.is_symlink() or (path.exists() and not path.resolve().is_relative_to(
            root.resolve())):
        raise _link_error(rel)


def check_revision_file(repo: GitRepo, rev: str, rel: str) -> None:
    if repo.tree_modes(rev, (rel,)).get(rel) == _SYMLINK:
        raise _link_error(f"{rev}:{rel}")


def check_worktree(root: Path) -> None:
    modes = {}
    for path in (POLICY_FILE, ALTERNATE):
        file = root / path
        if file.is_symlink():
            modes[path] = _SYMLINK
        elif file.exists():
            modes[path] = "100644"
    check_form(modes)


def check_revision(repo: GitRepo, rev: str) -> None:
    check_form(repo.tree_modes(rev, (POLICY_FILE, ALTERNATE)), f"{rev}:")
