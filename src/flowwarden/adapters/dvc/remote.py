"""DVC remotes flowwarden cannot read itself: asked through the dvc library or command.

`import dvc` costs ~0.5 s: it happens only here, only for such a remote.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from flowwarden.adapters.dvc.files import Output, outputs_of
from flowwarden.adapters.dvc.objects import Missing, ObjectStore, first_manifest
from flowwarden.adapters.dvc.paths import is_lock, sibling
from flowwarden.core import proc


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
    sources = sorted({o.source for o in outputs})
    targets = sorted({_status_target(s) for s in sources})
    here = _worktree_outputs(root, sources)
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
    return sibling(source, "dvc.yaml") if is_lock(source) else source


def _worktree_outputs(root: Path, sources: Sequence[str]) -> set[tuple[str, str]]:
    """(path, md5) of every output the working tree's copies of `sources` name."""
    found: set[tuple[str, str]] = set()
    for source in sources:
        try:
            text = (root / source).read_bytes()
        except OSError:
            continue
        pipeline = root / sibling(source, "dvc.yaml")
        dvc_yaml = pipeline.read_bytes() if is_lock(source) and pipeline.is_file() else None
        found.update((o.path, o.md5) for o in outputs_of(source, text, dvc_yaml))
    return found


def plugin_hint(error: ImportError) -> str:
    """The package to install for an ImportError the dvc library raised."""
    match = re.search(r"requires '([^']+)'", str(error))
    return match.group(1) if match else "dvc"
