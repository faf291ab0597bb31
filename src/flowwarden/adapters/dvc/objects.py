"""DVC object stores read directly: the cache and a local-directory remote."""
from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from flowwarden.adapters.dvc.files import Output

_OID = re.compile(r"[0-9a-f]{32}(\.dir)?")


class ObjectStore:
    """A directory of DVC objects: DVC 3 keeps `files/md5/xx/rest`, DVC 2 kept `xx/rest`.

    Paths are plain strings: a directory output means thousands of lookups, and pathlib
    objects cost more than the stat calls themselves.
    """

    __slots__ = ("root",)

    def __init__(self, root: Path) -> None:
        self.root = root

    def _candidates(self, md5: str) -> tuple[str, str]:
        base = os.fspath(self.root)
        return f"{base}/files/md5/{md5[:2]}/{md5[2:]}", f"{base}/{md5[:2]}/{md5[2:]}"

    def object_path(self, md5: str) -> str | None:
        """Where `md5` is stored, trying both layouts; None when it is in neither (or when
        `md5` is no hash: a path in its place must never lead outside the store)."""
        if not _OID.fullmatch(md5):
            return None
        return next((p for p in self._candidates(md5) if os.path.exists(p)), None)

    def has(self, md5: str) -> bool:
        return self.object_path(md5) is not None

    def present(self, md5s: Collection[str]) -> set[str]:
        """Which of `md5s` the store holds; many are answered by listing each prefix once."""
        md5s = {m for m in md5s if _OID.fullmatch(m)}
        if len(md5s) < 256:
            return {m for m in md5s if self.has(m)}
        base = os.fspath(self.root)
        found = self._listed(f"{base}/files/md5", md5s)
        rest = [m for m in md5s if m not in found]
        return found | self._listed(base, rest) if rest else found

    @staticmethod
    def _listed(base: str, md5s: Iterable[str]) -> set[str]:
        by_prefix: dict[str, list[str]] = {}
        for md5 in md5s:
            by_prefix.setdefault(md5[:2], []).append(md5)
        found: set[str] = set()
        for prefix, group in by_prefix.items():
            try:
                names = set(os.listdir(f"{base}/{prefix}"))
            except OSError:
                continue
            found.update(m for m in group if m[2:] in names)
        return found

    def manifest(self, md5: str) -> list[tuple[str, str]] | None:
        """A `.dir` object's entries as (relpath, md5); None when absent or unreadable."""
        import json

        path = self.object_path(md5)
        if path is None:
            return None
        try:
            with open(path, "rb") as handle:
                entries = json.load(handle)
        except (OSError, ValueError):
            return None
        try:
            listed = [(str(e["relpath"]), str(e["md5"])) for e in entries]
        except (TypeError, KeyError):
            return None
        return listed if all(_OID.fullmatch(m) for _, m in listed) else None


class Missing(NamedTuple):
    """What of one output a store lacks: the whole object, or some of a directory's files."""

    output: Output
    total: int  # objects the output needs (1 for a file, files + 1 for a directory)
    missing: tuple[str, ...]  # relpaths within a directory, or () for the object itself
    whole: bool  # the file object or the `.dir` manifest itself is absent

    def describe(self, where: str) -> str:
        """What is missing from `where` (a store named for the reader), in one line."""
        out = self.output
        if self.whole and out.is_dir:
            return (f"{out.path}/ (directory manifest {out.md5[:8]}.dir, named in {out.source}) "
                    f"is not in {where}")
        if self.whole:
            return f"{out.path} (md5 {out.md5[:8]}, named in {out.source}) is not in {where}"
        sample = ", ".join(self.missing[:3]) + (", ..." if len(self.missing) > 3 else "")
        return (f"{out.path}/: {len(self.missing)} of {self.total - 1} files named in "
                f"{out.source} are not in {where} (e.g. {sample})")


def first_manifest(stores: Sequence[ObjectStore], md5: str) -> list[tuple[str, str]] | None:
    return next((m for m in (s.manifest(md5) for s in stores) if m is not None), None)


def find_missing(store: ObjectStore, outputs: Iterable[Output],
                 manifests: Sequence[ObjectStore] = ()) -> list[Missing]:
    """The outputs `store` cannot provide; a `.dir` manifest may be read from `manifests`."""
    result = []
    for out in outputs:
        if not out.is_dir:
            if not store.has(out.md5):
                result.append(Missing(out, 1, (), True))
            continue
        entries = store.manifest(out.md5)
        present = entries is not None
        if entries is None:
            entries = first_manifest(manifests, out.md5)
        if entries is None:
            result.append(Missing(out, 1, (), True))
            continue
        held = store.present({md5 for _, md5 in entries})
        lacking = tuple(rel for rel, md5 in entries if md5 not in held)
        if lacking or not present:
            result.append(Missing(out, len(entries) + 1, lacking, not present))
    return result
