"""Refs as a repository holds them: branches, remote-tracking branches, tags, remotes."""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


class Refs:
    """The ref questions of GitRepo, each read with one `git for-each-ref` and kept."""

    _tips: dict[str, str] | None = None
    _local: Mapping[str, str] | None = None
    _remotes: tuple[str, ...] | None = None

    def git(self, *args: str, stdin: bytes | None = None, check: bool = True) -> bytes:
        raise NotImplementedError

    @property
    def branch_tips(self) -> Mapping[str, str]:
        """Short name -> sha for local branches, `remotes/<remote>/<name>` for tracking ones."""
        if self._tips is None:
            self._tips = self._read_tips()
        return self._tips

    def _read_tips(self) -> dict[str, str]:
        out = self.git("for-each-ref", "--format=%(objectname) %(refname)",
                       "refs/heads", "refs/remotes")
        tips = {}
        for line in out.decode().splitlines():
            sha, _, ref = line.partition(" ")
            if ref.startswith("refs/heads/"):
                tips[ref[len("refs/heads/"):]] = sha
            elif not ref.endswith("/HEAD"):
                tips[ref[len("refs/"):]] = sha  # remotes/origin/x
        return tips

    def local_branches(self) -> Mapping[str, str]:
        """Short name -> sha, read-only and the same mapping each time: a pre-receive asks
        once per pushed ref, and questions about it are kept by its identity."""
        if self._local is None:
            self._local = MappingProxyType({k: v for k, v in self.branch_tips.items()
                                            if not k.startswith("remotes/")})
        return self._local

    def remote_branches(self, remote: str) -> dict[str, str]:
        prefix = f"remotes/{remote}/"
        return {k[len(prefix):]: v for k, v in self.branch_tips.items() if k.startswith(prefix)}

    def tags(self) -> dict[str, str]:
        """Tag name -> the commit it names (annotated tags peeled); tags of other objects
        left out."""
        out = self.git("for-each-ref", "--format=%(objectname) %(*objectname) %(objecttype) "
                       "%(*objecttype) %(refname)", "refs/tags")
        tags = {}
        for line in out.decode().splitlines():
            sha, peeled, kind, peeled_kind, ref = (line.split(" ", 4) + [""] * 5)[:5]
            if kind == "commit" or peeled_kind == "commit":
                tags[ref[len("refs/tags/"):]] = peeled if kind == "tag" else sha
        return tags

    @property
    def remotes(self) -> tuple[str, ...]:
        if self._remotes is None:
            self._remotes = tuple(self.git("remote").decode().split())
        return self._remotes
