"""What a DVC remote lacks, decided by DVC's own logic (the dvc library).

`dvc push` sends what `worktree_view(index, push=True)` holds to each output's storage
(`Index.storage_map`: content-addressed for a plain remote, versioned paths for a
version-aware or worktree one); `dvc data status --not-in-remote --remote-refresh` asks that
storage what it has. This does the same for the pushed revisions, not the working tree, so
imports, `push: false`, per-output remotes, global and system config and every remote type are
judged as DVC judges them. `import dvc` costs ~0.5 s: only for pushes that touch DVC outputs.
"""
from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flowwarden.adapters.dvc.files import Output
from flowwarden.adapters.dvc.objects import Missing


def not_in_remote(root: Path, project: str, revs: Sequence[str], remote: str | None,
                  outputs: Sequence[Output], trusted: str | None = None,
                  bare: bool = False, view: bool = True) -> list[Missing]:
    """The `outputs` (named at `revs`) that DVC would push to `remote` and the remote lacks.

    `root`: the git work tree; `project`: the DVC project's directory in it ("" for the root);
    `remote`: as `dvc push -r` (None: DVC's default; an output's own `remote:` wins);
    `trusted`: a revision whose committed `.dvc/config` is used; else the work tree's, which
    is what `dvc push` reads (never a pushed revision's own: CI and servers must not let a
    push choose where its data is checked); `bare`: `root` is a bare repository (a server's,
    whose pre-receive hook sees the pushed objects in git's quarantine directory); `view`:
    False when the pushed revisions hold DVC files dvc-file-format refused, which DVC's own
    parser must not read (unbounded): the outputs are then asked of the storage directly.
    Raises ImportError when dvc or the remote's plugin is missing, and any other exception
    when the remote cannot be asked.
    """
    keys = sorted({_key(o.path, project) for o in outputs})
    answers: dict[tuple[tuple[str, ...], str], bool] = {}
    declined: set[tuple[str, ...]] = set()
    with _open(root, project, revs, remote, bare) as repo:
        config = _config(repo, project, trusted, remote)
        if not view:
            repo.config = config
            return _asked_directly(repo, outputs, remote)
        for _ in repo.brancher(revs=list(dict.fromkeys(revs)), workspace=False):
            repo.config = config  # brancher reloads it from each revision
            try:
                answers.update(_entries_in_remote(repo, keys, declined))
            except Exception as error:
                if isinstance(error, ImportError) or unreachable(error):
                    raise
                # DVC cannot build its view of this revision (an import whose source it
                # cannot open from a bare server): every output is then asked directly
                declined.clear()
                answers.clear()
                return _asked_directly(repo, [o for o in outputs if o.pushed], remote)
        found = [m for o in outputs if (m := _missing(o, _key(o.path, project), answers))]
        unseen = [o for o in outputs if _unaccounted(o, _key(o.path, project), answers, declined)]
        return found + _asked_directly(repo, unseen, remote)


_NETWORK = ("aiohttp", "requests", "urllib3", "botocore", "google.auth", "paramiko",
            "asyncssh", "azure.core", "ssl", "socket")


def unreachable(error: BaseException) -> bool:
    """Whether `error` (or what caused it) is a network, TLS, DNS, authentication or timeout
    failure: the remote cannot be asked. Anything else (DVC failing on the pushed content)
    is no reason to pass a push as "cannot check"."""
    seen: set[int] = set()
    at: BaseException | None = error
    while at is not None and id(at) not in seen:
        seen.add(id(at))
        kind = type(at)
        if isinstance(at, (OSError, TimeoutError)) or kind.__module__.split(".")[0] in \
                {m.split(".")[0] for m in _NETWORK} or any(
                w in kind.__name__ for w in ("Timeout", "Connect", "Auth", "Credential", "SSL")):
            return True
        at = at.__cause__ or at.__context__
    return False


def _unaccounted(out: Output, key: tuple[str, ...],
                 answers: dict[tuple[tuple[str, ...], str], bool],
                 declined: set[tuple[str, ...]]) -> bool:
    """An output flowwarden read that DVC's view of the revision neither checked nor
    declined to push (a `.dvcignore` hiding its `.dvc` file, a nested `.dvc` directory, a
    `wdir` DVC reads differently): it is checked directly, never passed unseen."""
    if not out.pushed or key in declined or (key, out.md5) in answers:
        return False
    return not (out.is_dir and any(len(k) > len(key) and k[:len(key)] == key
                                   for k, _ in answers))


def _asked_directly(repo: Any, outputs: Sequence[Output], remote: str | None
                    ) -> list[Missing]:
    """Each output's objects asked of its remote's content-addressed storage by md5; an
    output whose remote is not content-addressed (version-aware, worktree) is missing:
    nothing but DVC's view of the revision could name where its data would be."""
    from dvc.config import RemoteConfigError
    from dvc_data.hashfile.hash_info import HashInfo
    from dvc_data.hashfile.tree import Tree

    missing: list[Missing] = []
    for out in outputs:
        try:
            odb = repo.cloud.get_remote_odb(out.remote or remote, "push",
                                            hash_name="md5-dos2unix" if out.legacy else "md5")
        except RemoteConfigError:
            missing.append(Missing(out, 1, (), True))
            continue
        if not odb.exists(out.md5):
            missing.append(Missing(out, 1, (), True))
        elif out.is_dir:
            tree = Tree.load(odb, HashInfo("md5", out.md5))
            files = {"/".join(k): info.value for k, (_, info) in tree.iteritems() if info}  # type: ignore[no-untyped-call]
            there = set(odb.oids_exist(set(files.values())))
            lacking = tuple(sorted(p for p, oid in files.items() if oid not in there))
            if lacking:
                missing.append(Missing(out, len(files) + 1, lacking, False))
    return missing


def _key(path: str, project: str) -> tuple[str, ...]:
    return tuple(posixpath.relpath(path, project).split("/") if project else path.split("/"))


def _missing(out: Output, key: tuple[str, ...],
             answers: dict[tuple[tuple[str, ...], str], bool]) -> Missing | None:
    """One output's verdict from the remote's answers for its object and its files."""
    top = answers.get((key, out.md5))
    files = {k: v for (k, _), v in answers.items() if len(k) > len(key) and k[:len(key)] == key}
    if top is None and not (out.is_dir and files):
        return None  # DVC would not push it there (an import, `push: false`)
    lacking = tuple(sorted({"/".join(k[len(key):]) for k, v in files.items() if not v}))
    if not lacking and top is not False:
        return None
    return Missing(out, len(files) + 1 if out.is_dir else 1, lacking, top is False)


def _entries_in_remote(repo: Any, keys: list[tuple[str, ...]],
                       declined: set[tuple[str, ...]] | None = None
                       ) -> dict[tuple[tuple[str, ...], str], bool]:
    """For every pushable entry under `keys` at the repo's current revision: does its
    remote hold it? Asked of the remote itself (DVC's `--remote-refresh`), never of DVC's
    local record of past pushes."""
    from dvc.repo.data import filter_index
    from dvc.repo.worktree import worktree_view
    from dvc_data.index import FileStorage, StorageKeyError
    from dvc_data.index.index import DataIndexDirError

    data = worktree_view(repo.index, push=True).data["repo"]
    unlisted: list[Any] = []  # directories whose manifest is not in the local cache

    def onerror(entry: Any, exc: Exception) -> None:
        if not isinstance(exc, DataIndexDirError):
            raise exc
        unlisted.append(entry)

    data.onerror = onerror
    view = filter_index(data, filter_keys=keys)
    entries = {key: entry for key, entry in view.iteritems(shallow=False)
               if entry and entry.hash_info and any(key[:len(k)] == k for k in keys)}
    entries.update({e.key: e for e in unlisted})
    storage = view.storage_map
    answers: dict[tuple[tuple[str, ...], str], bool] = {}
    by_object: list[Any] = []
    for key, entry in entries.items():
        try:
            remote = storage[key].remote
        except (KeyError, StorageKeyError):
            remote = None
        if remote is None or remote.read_only:
            if declined is not None:
                declined.add(key)
            continue  # nowhere `dvc push` would send it (e.g. an import's source)
        if not isinstance(remote, FileStorage):
            by_object.append(entry)
        elif _unversioned(remote, entry):
            answers[key, entry.hash_info.value] = False  # `dvc push` records a version id
        else:
            answers[key, entry.hash_info.value] = remote.exists(entry, refresh=True)
    if by_object:
        found = storage.bulk_remote_exists(by_object, refresh=True)
        answers.update({(e.key, e.hash_info.value): bool(found.get(e, False))
                        for e in by_object})
    return answers


def _unversioned(remote: Any, entry: Any) -> bool:
    meta = entry.meta
    return bool(remote.fs.version_aware and not (meta and (meta.isdir or meta.version_id)))


def _open(root: Path, project: str, revs: Sequence[str], remote: str | None,
          bare: bool) -> Any:
    from dvc.repo import Repo  # ~0.5 s, only here

    if not bare:
        return Repo(str(root / project), remote=remote)
    import os

    from dvc.fs import GitFileSystem
    from dvc.scm import SCM

    scm = SCM(str(root))
    quarantine = os.environ.get("GIT_QUARANTINE_PATH")
    if quarantine:  # DVC's git backend reads objects through libgit2, blind to git's env
        scm.pygit2.repo.odb.add_disk_alternate(quarantine)
    fs = GitFileSystem(scm=scm, rev=revs[0])
    return Repo(posixpath.join("/", project), fs=fs, scm=scm, remote=remote)


def _config(repo: Any, project: str, trusted: str | None, remote: str | None) -> Any:
    """DVC's config as the work tree has it, or with the repository level read from the
    `trusted` revision (global, system and local levels are the machine's own)."""
    from dvc.config import Config
    from dvc.fs import GitFileSystem

    if trusted is None:
        return Config(repo.dvc_dir, local_dvc_dir=repo.local_dvc_dir, remote=remote)
    fs = GitFileSystem(scm=repo.scm, rev=trusted)
    at = posixpath.join("/", project, ".dvc")
    return Config(at, local_dvc_dir=repo.local_dvc_dir, fs=fs, remote=remote)

