"""DVC's own files read directly: `.dvc` files, `dvc.lock` and `dvc.yaml`, and params files.

YAML is imported only when a DVC file is actually read: `import dvc` would take ~0.5 s where
reading the files answers in milliseconds.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from flowwarden.adapters.dvc.paths import is_lock, repo_path
from flowwarden.adapters.dvc.yamlload import UnreadableFile as UnreadableFile
from flowwarden.adapters.dvc.yamlload import load_yaml as load_yaml


class Output(NamedTuple):
    """One cached output a `.dvc` file or `dvc.lock` names, path relative to the repo root."""

    path: str
    md5: str  # hex digest, with `.dir` for a directory
    legacy: bool  # recorded without `hash: md5`, i.e. DVC 2's md5-dos2unix
    source: str  # the `.dvc` file or `dvc.lock` that names it
    stage: str | None = None  # the dvc.lock stage, None for a `.dvc` file
    pushed: bool = True  # False: `dvc push` never sends it (`push: false`, `dvc import`)
    remote: str | None = None  # the output's own remote (`remote:` on the output)

    @property
    def is_dir(self) -> bool:
        return self.md5.endswith(".dir")


class Dependency(NamedTuple):
    """One dependency a `dvc.lock` stage recorded, path relative to the repo root."""

    path: str
    md5: str | None
    legacy: bool
    stage: str
    lock: str


class LockParams(NamedTuple):
    """The parameter values a `dvc.lock` stage recorded from one params file."""

    file: str  # repo-relative
    values: Mapping[str, Any]
    stage: str
    lock: str


class Lock(NamedTuple):
    outs: tuple[Output, ...]
    deps: tuple[Dependency, ...]
    params: tuple[LockParams, ...]


_MD5 = re.compile(r"[0-9a-f]{32}(\.dir)?")


def _hash_of(entry: Mapping[str, Any]) -> tuple[str | None, bool]:
    md5 = entry.get("md5")
    if md5 is None or md5 == "":
        return None, False
    if not isinstance(md5, str) or not _MD5.fullmatch(md5):
        # a path such as ../../etc/passwd would make every store lookup leave the store
        raise UnreadableFile(f"md5 {str(md5)[:40]!r} is not an md5 hash")
    return md5, entry.get("hash") != "md5"


def _entries(node: Any, what: str) -> list[Any]:
    """A list section (`outs`, `deps`), or UnreadableFile when it is something else."""
    if node is None:
        return []
    if not isinstance(node, list):
        raise UnreadableFile(f"{what} is a {type(node).__name__}, not a list")
    return node


def parse_dvcfile(text: bytes, path: str) -> tuple[Output, ...]:
    """The cached outputs of a `.dvc` file (its `outs`, minus `cache: false`)."""
    doc = load_yaml(text)
    if not isinstance(doc, dict):
        return ()
    outs = []
    # `dvc import` records the source repository as a dependency: DVC never pushes its data
    imported = any(isinstance(d, dict) and "repo" in d for d in _entries(doc.get("deps"), "deps"))
    for entry in _entries(doc.get("outs"), "outs"):
        if not isinstance(entry, dict) or entry.get("cache") is False:
            continue
        md5, legacy = _hash_of(entry)
        target = repo_path(path, _in_wdir(doc.get("wdir"), str(entry.get("path", ""))))
        if md5 and target:
            pushed = not imported and entry.get("push") is not False
            remote = entry.get("remote")
            outs.append(Output(target, md5, legacy, path, None, pushed,
                               remote if isinstance(remote, str) and remote else None))
    return tuple(outs)


def _in_wdir(wdir: Any, path: str) -> str:
    """An output path written in a `.dvc` file, as DVC reads it: relative to `wdir:`."""
    if not path or not isinstance(wdir, str) or not wdir or path.startswith("/"):
        return path
    return posixpath.join(wdir, path)


class Pipeline(NamedTuple):
    """What `dvc.yaml` adds to its `dvc.lock`: stage working dirs and `cache: false` outputs."""

    wdirs: Mapping[str, str]  # stage -> wdir as written, only where it is not "."
    uncached: frozenset[str]  # repo-relative paths
    unpushed: frozenset[str] = frozenset()  # `push: false` outputs, repo-relative
    remotes: Mapping[str, str] = {}  # output -> its own remote (`remote:` in dvc.yaml)


def parse_pipeline(dvc_yaml: bytes | None, path: str) -> Pipeline:
    """Read `dvc.yaml` at `path` for what the lock alone cannot tell."""
    doc = load_yaml(dvc_yaml) if dvc_yaml else None
    if not isinstance(doc, dict) or not isinstance(doc.get("stages"), dict):
        return Pipeline({}, frozenset())
    wdirs = {}
    uncached = set()
    unpushed = set()
    remotes = {}
    for name, stage in doc["stages"].items():
        stage = definition(stage)
        if not isinstance(stage, dict):
            continue
        wdir = str(stage.get("wdir") or ".")
        if wdir != ".":
            wdirs[str(name)] = wdir
        base = _stage_base(path, wdir)
        for section in ("outs", "metrics", "plots"):
            for entry in _entries(stage.get(section), f"stage {name} {section}"):
                if not isinstance(entry, dict):
                    continue
                for out, opts in entry.items():
                    target = repo_path(base, str(out))
                    if target and isinstance(opts, dict) and opts.get("cache") is False:
                        uncached.add(target)
                    if not target or not isinstance(opts, dict):
                        continue
                    if opts.get("push") is False:
                        unpushed.add(target)
                    if isinstance(opts.get("remote"), str) and opts["remote"]:
                        remotes[target] = opts["remote"]
    return Pipeline(wdirs, frozenset(uncached), frozenset(unpushed), remotes)


def definition(stage: Any) -> Any:
    """A `dvc.yaml` stage's definition: a `foreach` stage keeps it under `do`."""
    return stage["do"] if isinstance(stage, dict) and isinstance(stage.get("do"), dict) \
        else stage


def _stage_base(lock_path: str, wdir: str) -> str:
    """A file path whose directory is the stage's working dir, for `repo_path`."""
    return posixpath.join(posixpath.dirname(lock_path), wdir, "dvc.lock")


def parse_lock(text: bytes, path: str, dvc_yaml: bytes | None = None) -> Lock:
    """Outputs, dependencies and params of every stage in a `dvc.lock` (schema 2.0).

    `dvc_yaml` (the matching `dvc.yaml`) supplies stage working dirs and `cache: false`.
    """
    doc = load_yaml(text)
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict):
        return Lock((), (), ())
    pipeline = parse_pipeline(dvc_yaml, path)
    outs: list[Output] = []
    deps: list[Dependency] = []
    params: list[LockParams] = []
    for name, stage in stages.items():
        if not isinstance(stage, dict):
            continue
        name = str(name)
        # foreach/matrix stages appear in the lock as `name@key`
        base = _stage_base(path, pipeline.wdirs.get(name.split("@")[0], "."))
        for entry in _entries(stage.get("outs"), f"stage {name} outs"):
            if not isinstance(entry, dict):
                continue
            md5, legacy = _hash_of(entry)
            target = repo_path(base, str(entry.get("path", "")))
            if md5 and target and target not in pipeline.uncached:
                outs.append(Output(target, md5, legacy, path, name,
                                   target not in pipeline.unpushed, pipeline.remotes.get(target)))
        for entry in _entries(stage.get("deps"), f"stage {name} deps"):
            if not isinstance(entry, dict):
                continue
            md5, legacy = _hash_of(entry)
            target = repo_path(base, str(entry.get("path", "")))
            if target:
                deps.append(Dependency(target, md5, legacy, name, path))
        recorded = stage.get("params") or {}
        if not isinstance(recorded, dict):
            raise UnreadableFile(f"stage {name} params is a {type(recorded).__name__}, "
                                 "not a mapping")
        for file, values in recorded.items():
            target = repo_path(base, str(file))
            if target and isinstance(values, dict):
                params.append(LockParams(target, values, name, path))
    return Lock(tuple(outs), tuple(deps), tuple(params))


def param_value(doc: Any, key: str) -> tuple[bool, Any]:
    """Look a dotted params key up in a parsed params file: (found, value)."""
    node = doc
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def outputs_of(path: str, text: bytes, dvc_yaml: bytes | None = None) -> tuple[Output, ...]:
    """The cached outputs a `.dvc` file or `dvc.lock` names (a lock's `dvc.yaml` beside it)."""
    return parse_lock(text, path, dvc_yaml).outs if is_lock(path) else parse_dvcfile(text, path)


def md5_of_blob(blob: bytes, legacy: bool) -> str:
    """The md5 DVC records for file content; DVC 2 normalised text files' CRLF first."""
    import hashlib

    if legacy and b"\0" not in blob[:8192]:
        blob = blob.replace(b"\r\n", b"\n")
    return hashlib.md5(blob).hexdigest()  # noqa: S324 - DVC's content address, not security
