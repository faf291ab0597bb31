"""Find, parse, validate and merge a policy; cache the validated result by content.

The cache lives under the git directory and holds the exact bytes of every file the policy
was built from; a hit needs no YAML parser and no schema validator, which hooks would otherwise
import on every commit.
"""
from __future__ import annotations

import json
import os
import posixpath
import re
import weakref
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from flowwarden import __version__
from flowwarden.core.errors import PolicyError
from flowwarden.policy.locate import (
    POLICY_FILE,
    check_revision,
    check_revision_file,
    check_worktree,
    check_worktree_file,
)
from flowwarden.policy.model import Policy
from flowwarden.policy.schema import did_you_mean, known_rule_ids, policies_dir
from flowwarden.policy.sections import Merged

if TYPE_CHECKING:
    from flowwarden.adapters.git import GitRepo
    from flowwarden.policy.yamlmarks import Located

__all__ = ["POLICY_FILE", "load_policy", "load_policy_at", "load_policy_file", "presets"]
DEFAULT_PRESET = "gitflow-ml"
Reader = Callable[[str], "bytes | None"]  # repository-relative posix path -> content
# What building a document that skipped validation may raise: a bad cache entry.
_UNBUILDABLE = (PolicyError, LookupError, TypeError, ValueError, AttributeError, re.error)


class _Source(NamedTuple):
    """Where policy files come from: a work tree, or a revision's tree."""

    read: Reader
    label: str  # prefix for file names in messages ("" or "develop:")
    top: str = POLICY_FILE  # the policy file, relative to the source's root


def presets() -> list[str]:
    return sorted(p.stem for p in policies_dir().glob("*.yaml")
                  if not p.name.endswith(".cases.yaml"))  # a preset's test cases


def load_policy(root: Path | None, cache_dir: Path | None = None,
                seen: dict[str, bytes | None] | None = None) -> Policy:
    """The policy of a work tree: `.flowwarden.yaml` at `root`, or the gitflow-ml preset.
    `seen` collects each work-tree file read, with the content read (None: absent)."""
    def read(rel: str) -> bytes | None:
        if root is None:
            return None
        if rel != POLICY_FILE:  # the policy file itself is checked once, below
            check_worktree_file(root, rel)
        try:
            data: bytes | None = (root / rel).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            data = None
        except IsADirectoryError:
            raise PolicyError(rel, 1, 1, (), "is a directory; expected a YAML policy file"
                              ) from None
        if seen is not None:
            seen[rel] = data
        return data
    if root is not None:
        check_worktree(root)
    return _load(_Source(read, ""), cache_dir)


def load_policy_at(repo: GitRepo, rev: str) -> Policy:
    """The policy committed in `rev`'s tree (the preset if it has none). Kept per revision
    while `repo.pinned` (a pre-receive asks it once per pushed ref)."""
    kept = _AT.setdefault(repo, {}) if repo.pinned else {}
    if rev not in kept:
        kept[rev] = _load_at(repo, rev)
    return kept[rev]


_AT: weakref.WeakKeyDictionary[GitRepo, dict[str, Policy]] = weakref.WeakKeyDictionary()


def _load_at(repo: GitRepo, rev: str) -> Policy:
    check_revision(repo, rev)

    def read(rel: str) -> bytes | None:
        if rel != POLICY_FILE:  # the policy file itself is checked once, above
            check_revision_file(repo, rev, rel)
        return repo.read_blob(f"{rev}:{rel}")
    return _load(_Source(read, f"{rev}:"), repo.common_dir / "flowwarden")


def load_policy_file(path: Path) -> Policy:
    """A policy file anywhere, `extends` paths resolved next to it; never cached."""
    base = path.resolve().parent

    def read(rel: str) -> bytes | None:
        if rel != path.name:  # an `extends` file: never through a symbolic link
            check_worktree_file(base, rel)
        try:
            return (base / rel).read_bytes()
        except OSError:
            return None
    return _load(_Source(read, "", path.name), None)


def _preset_bytes(name: str) -> bytes | None:
    try:
        return (policies_dir() / f"{name}.yaml").read_bytes()
    except OSError:
        return None


def _load(source: _Source, cache_dir: Path | None) -> Policy:
    top = source.read(source.top)
    name = source.label + source.top if top is not None else f"preset {DEFAULT_PRESET}"
    if top is None:
        top = _preset_bytes(DEFAULT_PRESET) or b""
    key = f"{zlib.crc32(f'{__version__}{name}'.encode() + top):08x}"
    deps: dict[str, str] = {"top": _text(top)}
    cached = _read_cache(cache_dir, key, source, deps["top"])
    if cached is not None:
        try:
            return Policy.from_document(cached, name)
        except _UNBUILDABLE:
            pass  # a cache entry that does not build is a miss, rewritten below
    loader = _Loader(source, deps)
    document = loader.load(top, name, source.top, ())
    policy = Policy.from_document(document, name, Merged(loader.files[::-1]))
    _write_cache(cache_dir, key, document, deps)
    return policy


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", "surrogateescape")


def _dep_bytes(source: _Source, dep: str) -> bytes | None:
    return _preset_bytes(dep[len("preset:"):]) if dep.startswith("preset:") else source.read(dep)


def _read_cache(cache_dir: Path | None, key: str, source: _Source,
                top: str) -> dict[str, Any] | None:
    """The cached document if every file it was built from is unchanged; None otherwise."""
    if cache_dir is None:
        return None
    try:
        entry = json.loads((cache_dir / f"policy-{key}.json").read_text())
    except (OSError, ValueError):
        return None
    deps = entry.get("deps") if isinstance(entry, dict) else None
    document = entry.get("document") if isinstance(entry, dict) else None
    if not isinstance(deps, dict) or not isinstance(document, dict) or deps.get("top") != top:
        return None
    for dep, content in deps.items():
        if dep != "top" and _text(_dep_bytes(source, dep)) != content:
            return None
    return document


def _write_cache(cache_dir: Path | None, key: str, document: Mapping[str, Any],
                 deps: Mapping[str, str]) -> None:
    if cache_dir is None:
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f".policy-{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"deps": deps, "document": document}))
        tmp.replace(cache_dir / f"policy-{key}.json")
    except OSError:
        pass  # a read-only git dir only costs speed


class _Loader:
    """Loads one policy file and everything it extends, validating each."""

    def __init__(self, source: _Source, deps: dict[str, str]) -> None:
        self.source = source
        self.deps = deps
        self.files: list[Located] = []

    def load(self, content: bytes, name: str, rel: str | None,
             chain: tuple[str, ...]) -> dict[str, Any]:
        from flowwarden.policy import schema, yamlmarks

        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise PolicyError(name, 1, 1, (), "not UTF-8 text") from None
        doc = yamlmarks.parse(text, name)
        if not isinstance(doc.data, dict):
            raise doc.error((), f"expected a mapping of policy keys, got {type(doc.data).__name__}")
        schema.validate(doc)
        _check_file(doc)
        merged: dict[str, Any] = {}
        extends = doc.data.get("extends", [])
        for i, parent in enumerate([extends] if isinstance(extends, str) else extends):
            path: tuple[object, ...] = ("extends",) if isinstance(extends, str) else ("extends", i)
            merged = merge(merged, self._parent(doc, path, parent, rel, chain + (name,)))
        own = {k: v for k, v in doc.data.items() if k != "extends"}
        merged = merge(merged, own)
        self.files.append(doc)  # after its parents: reversed, the winning file comes first
        if not chain:
            _check_effective(merged, Merged(self.files[::-1]))
        return merged

    def _parent(self, doc: Located, path: tuple[object, ...], parent: str, rel: str | None,
                chain: tuple[str, ...]) -> dict[str, Any]:
        if "/" not in parent and not parent.endswith((".yaml", ".yml")):
            content = _preset_bytes(parent)
            if content is None:
                raise doc.error(path, f"unknown preset '{parent}'"
                                f"{did_you_mean(parent, presets())}; "
                                f"bundled presets: {', '.join(presets())}")
            dep, label, child_rel = f"preset:{parent}", f"preset {parent}", None
        else:
            base = posixpath.dirname(rel) if rel is not None else None
            if base is None:
                raise doc.error(path, "a preset cannot extend a file path")
            target = posixpath.normpath(posixpath.join(base, parent))
            if parent.startswith("/") or target.startswith("../") or target == "..":
                raise doc.error(path, f"'{parent}' points outside the repository; "
                                "expected a path inside it, relative to this file")
            content = self.source.read(target)
            if content is None:
                raise doc.error(path, f"'{parent}' not found (looked for {target})")
            dep, label, child_rel = target, self.source.label + target, target
        if label in chain:
            cycle = " -> ".join([*chain[chain.index(label):], label])
            raise doc.error(path, f"extends cycle: {cycle}")
        self.deps[dep] = _text(content)
        return self.load(content, label, child_rel, chain)


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key (branch kinds, rules, sections); other values replace."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _check_file(doc: Located) -> None:
    """The rule ids `rules:` and `waivers:` name exist (here rather than in the schema, to
    say which id was meant)."""
    named: list[tuple[tuple[object, ...], str, bool]] = [
        (("rules", rule_id), rule_id, True) for rule_id in doc.data.get("rules", {})]
    named += [(("waivers", i, "rule"), entry["rule"], False)
              for i, entry in enumerate(doc.data.get("waivers", []))]
    if not named:
        return
    known = known_rule_ids()
    for path, rule_id, is_key in named:
        if rule_id not in known:
            raise doc.error(path, f"unknown rule id '{rule_id}'"
                            f"{did_you_mean(rule_id, known)}; see `flowwarden rules`",
                            prefer_key=is_key)


def _check_effective(document: Mapping[str, Any], at: Merged) -> None:
    """Checks on the merged policy that its typed sections do not make yet."""
    kinds = document.get("branches", {})
    if not kinds:
        raise at.files[0].error((), "the policy defines no branch kinds, so no branch could be "
                                "named; expected `extends: gitflow-ml` or a `branches:` mapping")
    references = [(("runs", key, i), ref) for key in ("branches", "gate_into")
                  for i, ref in enumerate(document.get("runs", {}).get(key, []))]
    for path, ref in references:
        if ref not in kinds:
            raise at.error(path, f"unknown branch kind '{ref}'"
                           f"{did_you_mean(ref, list(kinds))}; "
                           f"expected one of: {', '.join(kinds)}")
