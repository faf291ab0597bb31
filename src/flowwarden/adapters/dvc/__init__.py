"""The DVC adapter: DVC's own files and cache read directly, the dvc library only for remotes.

Nothing here imports dvc at module level: the commit path reads `.dvc` files, `dvc.lock`
and the cache layout itself, which answers in milliseconds where `import dvc` takes ~0.5 s.
The rules import this module only once a DVC file is involved; standard modules that
only one function needs are imported in that function.
"""
from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from flowwarden.adapters.git import GitRepo
from flowwarden.core import proc

_REMOTE_SECTION = re.compile(r"""^'?remote\s+"([^"]+)"'?$""")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


class Output(NamedTuple):
    """One cached output a `.dvc` file or `dvc.lock` names, path relative to the repo root."""

    path: str
    md5: str  # hex digest, with `.dir` for a directory
    legacy: bool  # recorded without `hash: md5`, i.e. DVC 2's md5-dos2unix
    source: str  # the `.dvc` file or `dvc.lock` that names it
    stage: str | None = None  # the dvc.lock stage, None for a `.dvc` file

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


class DvcConfig(NamedTuple):
    """What flowwarden needs from `.dvc/config` and `.dvc/config.local`."""

    cache_dir: Path
    default_remote: str | None
    remotes: Mapping[str, str]  # name -> url, local paths made absolute


# --- YAML files ------------------------------------------------------------------------

def load_yaml(text: bytes) -> Any:
    import yaml  # only when a DVC file is actually read

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader either way


def repo_path(base_file: str, path: str) -> str | None:
    """`path` as written in `base_file` (relative to its directory), relative to the repo root.

    None for an external output (absolute, a URL, or outside the repository).
    """
    if not path or path.startswith("/") or _SCHEME.match(path) or re.match(r"^[A-Za-z]:", path):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base_file), path))
    return None if joined == ".." or joined.startswith("../") else joined


def _hash_of(entry: Mapping[str, Any]) -> tuple[str | None, bool]:
    md5 = entry.get("md5")
    if not isinstance(md5, str) or not md5:
        return None, False
    return md5, entry.get("hash") != "md5"


def parse_dvcfile(text: bytes, path: str) -> tuple[Output, ...]:
    """The cached outputs of a `.dvc` file (its `outs`, minus `cache: false`)."""
    doc = load_yaml(text)
    if not isinstance(doc, dict):
        return ()
    outs = []
    for entry in doc.get("outs") or ():
        if not isinstance(entry, dict) or entry.get("cache") is False:
            continue
        md5, legacy = _hash_of(entry)
        target = repo_path(path, str(entry.get("path", "")))
        if md5 and target:
            outs.append(Output(target, md5, legacy, path))
    return tuple(outs)


class Pipeline(NamedTuple):
    """What `dvc.yaml` adds to its `dvc.lock`: stage working dirs and `cache: false` outputs."""

    wdirs: Mapping[str, str]  # stage -> wdir as written, only where it is not "."
    uncached: frozenset[str]  # repo-relative paths


def parse_pipeline(dvc_yaml: bytes | None, path: str) -> Pipeline:
    """Read `dvc.yaml` at `path` for what the lock alone cannot tell."""
    doc = load_yaml(dvc_yaml) if dvc_yaml else None
    if not isinstance(doc, dict) or not isinstance(doc.get("stages"), dict):
        return Pipeline({}, frozenset())
    wdirs = {}
    uncached = set()
    for name, stage in doc["stages"].items():
        if not isinstance(stage, dict):
            continue
        wdir = str(stage.get("wdir") or ".")
        if wdir != ".":
            wdirs[str(name)] = wdir
        base = _stage_base(path, wdir)
        for section in ("outs", "metrics", "plots"):
            for entry in stage.get(section) or ():
                if not isinstance(entry, dict):
                    continue
                for out, opts in entry.items():
                    target = repo_path(base, str(out))
                    if target and isinstance(opts, dict) and opts.get("cache") is False:
                        uncached.add(target)
    return Pipeline(wdirs, frozenset(uncached))


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
        for entry in stage.get("outs") or ():
            if not isinstance(entry, dict):
                continue
            md5, legacy = _hash_of(entry)
            target = repo_path(base, str(entry.get("path", "")))
            if md5 and target and target not in pipeline.uncached:
                outs.append(Output(target, md5, legacy, path, name))
        for entry in stage.get("deps") or ():
            if not isinstance(entry, dict):
                continue
            md5, legacy = _hash_of(entry)
            target = repo_path(base, str(entry.get("path", "")))
            if target:
                deps.append(Dependency(target, md5, legacy, name, path))
        for file, values in (stage.get("params") or {}).items():
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


# --- configuration ---------------------------------------------------------------------

def dvc_dir(root: Path) -> Path | None:
    """The repository's `.dvc` directory, None when DVC was never set up here."""
    path = root / ".dvc"
    return path if path.is_dir() else None


def _read_ini(path: Path, text: str | None = None) -> dict[str, dict[str, str]]:
    # DVC writes configobj-style INI; configparser reads it once interpolation is off and
    # keys keep their case. Sections look like `['remote "storage"']`.
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    if text is None:
        try:
            text = path.read_text()
        except OSError:
            return {}
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error:
        return {}
    return {section: {k: v.strip().strip("'\"") for k, v in parser.items(section)}
            for section in parser.sections()}


def read_config(dvc: Path, committed_text: str | None = None) -> DvcConfig:
    """`.dvc/config` overlaid with `.dvc/config.local`; relative paths are relative to `.dvc/`.

    `committed_text` replaces `.dvc/config` (for a bare repository, read from a commit).
    """
    merged: dict[str, dict[str, str]] = {}
    for layer in (_read_ini(dvc / "config", committed_text), _read_ini(dvc / "config.local")):
        for section, values in layer.items():
            merged.setdefault(section.strip("'"), {}).update(values)
    cache = merged.get("cache", {}).get("dir")
    remotes = {}
    for section, values in merged.items():
        match = _REMOTE_SECTION.match(section)
        if match and "url" in values:
            remotes[match.group(1)] = _resolve_url(dvc, values["url"])
    return DvcConfig(
        cache_dir=(dvc / cache).resolve() if cache else dvc / "cache",
        default_remote=merged.get("core", {}).get("remote") or None,
        remotes=remotes,
    )


def _resolve_url(dvc: Path, url: str) -> str:
    if url.startswith("file://"):
        return url[len("file://"):]
    if _SCHEME.match(url):
        return url
    return str((dvc / os.path.expanduser(url)).resolve())


def is_local_url(url: str) -> bool:
    return _SCHEME.match(url) is None


# --- object stores (the cache, a local-directory remote) -------------------------------

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
        """Where `md5` is stored, trying both layouts; None when it is in neither."""
        return next((p for p in self._candidates(md5) if os.path.exists(p)), None)

    def has(self, md5: str) -> bool:
        return self.object_path(md5) is not None

    def present(self, md5s: Collection[str]) -> set[str]:
        """Which of `md5s` the store holds; many are answered by listing each prefix once."""
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
            return [(e["relpath"], e["md5"]) for e in entries]
        except (TypeError, KeyError):
            return None


class Missing(NamedTuple):
    """What of one output a store lacks: the whole object, or some of a directory's files."""

    output: Output
    total: int  # objects the output needs (1 for a file, files + 1 for a directory)
    missing: tuple[str, ...]  # relpaths within a directory, or () for the object itself
    whole: bool  # the file object or the `.dir` manifest itself is absent


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


def probe(url: str, timeout: float = 5.0) -> None:
    """Raise ConnectionError when an HTTP(S)/WebDAV remote's host does not accept connections.

    DVC's HTTP filesystem reports a refused connection as "file not found", which would
    read as "not pushed"; a plain TCP connect tells the two apart before dvc is imported.
    """
    import socket
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https", "webdav", "webdavs") or not parts.hostname:
        return
    port = parts.port or (443 if parts.scheme in ("https", "webdavs") else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as error:
        raise ConnectionError(f"cannot connect to {parts.hostname}:{port} ({error})") from error


def remote_missing(root: Path, remote: str | None,
                   outputs: Sequence[Output], manifests: Sequence[ObjectStore]) -> list[Missing]:
    """Ask a non-local remote through the dvc library which objects it lacks.

    Raises ImportError when dvc or the remote's plugin is missing, and any other exception
    when the remote cannot be reached.
    """
    from dvc.repo import Repo  # ~0.5 s: only for remotes flowwarden cannot read itself

    listing = {out: first_manifest(manifests, out.md5) or [] for out in outputs if out.is_dir}
    present: set[tuple[bool, str]] = set()
    with Repo(str(root)) as repo:
        for legacy in (False, True):
            oids = {o.md5 for o in outputs if o.legacy == legacy}
            oids |= {md5 for o, entries in listing.items() if o.legacy == legacy
                     for _, md5 in entries}
            if not oids:
                continue
            # DVC keeps DVC 2 (md5-dos2unix) objects in a legacy database of the same remote
            odb = repo.cloud.get_remote_odb(remote, "push",
                                            hash_name="md5-dos2unix" if legacy else "md5")
            present |= {(legacy, oid) for oid in odb.oids_exist(sorted(oids))}
    result = []
    for out in outputs:
        if (out.legacy, out.md5) not in present:
            result.append(Missing(out, 1, (), True))
            continue
        lacking = tuple(rel for rel, md5 in listing.get(out, [])
                        if (out.legacy, md5) not in present)
        if lacking:
            result.append(Missing(out, len(listing[out]) + 1, lacking, False))
    return result


def cli_missing(root: Path, remote: str, outputs: Sequence[Output]) -> list[Missing]:
    """Ask a remote through the `dvc` command, when the dvc library is not importable here.

    `dvc status --cloud` compares the working tree's DVC files, so only outputs the working
    tree names with the same hash can be answered; the others raise LookupError.
    """
    import json
    import shutil

    command = shutil.which("dvc")
    if command is None:
        raise ImportError("neither the dvc package nor the dvc command is installed",
                          name="dvc")
    targets = sorted({_status_target(o.source) for o in outputs})
    here = _worktree_outputs(root, targets)
    differing = sorted({o.source for o in outputs if (o.path, o.md5) not in here})
    if differing:
        raise LookupError(f"the working tree's {', '.join(differing)} differ from the pushed "
                          "version, and the dvc command can only check the working tree")
    try:
        _, out = proc.run([command, "status", "--cloud", "--remote", remote, "--json",
                           *targets], cwd=root)
    except proc.CommandError as error:
        if "requires '" in str(error):
            raise ImportError(str(error)) from error
        raise
    status = json.loads(out or b"{}")
    return [Missing(o, 1, (), True) for o in outputs
            if status.get(o.path) in ("new", "missing", "modified")]


def _status_target(source: str) -> str:
    # `dvc status` takes a pipeline's dvc.yaml, not its lock
    return posixpath.join(posixpath.dirname(source), "dvc.yaml") \
        if posixpath.basename(source) == "dvc.lock" else source


def _worktree_outputs(root: Path, targets: Sequence[str]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for target in targets:
        is_pipeline = posixpath.basename(target) == "dvc.yaml"
        source = posixpath.join(posixpath.dirname(target), "dvc.lock") if is_pipeline else target
        try:
            text = (root / source).read_bytes()
        except OSError:
            continue
        if is_pipeline:
            pipeline = (root / target).read_bytes() if (root / target).is_file() else None
            outs = parse_lock(text, source, pipeline).outs
        else:
            outs = parse_dvcfile(text, source)
        found.update((o.path, o.md5) for o in outs)
    return found


def plugin_hint(error: ImportError) -> str:
    """The package to install for an ImportError the dvc library raised."""
    match = re.search(r"requires '([^']+)'", str(error))
    return match.group(1) if match else "dvc"


# --- git side --------------------------------------------------------------------------

def ignored_paths(repo: GitRepo, paths: Iterable[str]) -> set[str]:
    """Which of `paths` the working tree's gitignore rules exclude: one git call for all."""
    wanted = sorted(set(paths))
    if not wanted:
        return set()
    out = repo.git("check-ignore", "--no-index", "--stdin", "-z",
                   stdin=b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in wanted),
                   check=False)
    return {p for p in out.decode("utf-8", "surrogateescape").split("\0") if p}


def covered(listed: Iterable[str], paths: Iterable[str]) -> set[str]:
    """Which of `paths` are in `listed`, as files or as directories with files under them."""
    wanted = set(paths)
    hits: set[str] = set()
    for path in listed:
        parts = path.split("/")
        hits.update(p for p in ("/".join(parts[:i]) for i in range(1, len(parts) + 1))
                    if p in wanted)
    return hits


def md5_of_blob(blob: bytes, legacy: bool) -> str:
    """The md5 DVC records for file content; DVC 2 normalised text files' CRLF first."""
    import hashlib

    if legacy and b"\0" not in blob[:8192]:
        blob = blob.replace(b"\r\n", b"\n")
    return hashlib.md5(blob).hexdigest()  # noqa: S324 - DVC's content address, not security

