"""DVC remotes flowwarden cannot read itself: probed before asking, or asked through the
`dvc` command where the dvc library is not importable (adapters/dvc/cloud.py asks the library).
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from flowwarden.adapters.dvc.files import Output, outputs_of
from flowwarden.adapters.dvc.objects import Missing
from flowwarden.adapters.dvc.paths import is_lock, sibling
from flowwarden.core import proc

T = TypeVar("T")

#: Seconds DVC's library may take to answer for one project's outputs, in all.
DVC_DEADLINE = 180.0


class CannotCheck(Exception):
    """The remote could not be asked (refused, unauthorised, TLS, DNS): never "not pushed"."""


def probe(url: str, options: Mapping[str, str], timeout: float = 10.0) -> None:
    """Raise CannotCheck when an HTTP(S)/WebDAV remote cannot be asked at all.

    DVC's HTTP filesystem reports a refused connection or a 401/403 as "file not found",
    which would read as "not pushed": one request to the remote's root, with the remote's
    basic credentials, tells the two apart before dvc is imported. A 404 is a remote that
    exists with nothing at its root: fine.
    """
    import base64
    import ssl
    import urllib.error
    import urllib.parse
    import urllib.request

    from flowwarden.core.redact import redact

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https", "webdav", "webdavs") or not parts.hostname:
        return
    if options.get("auth") not in (None, "basic") or "custom_auth_header" in options:
        return  # a custom header flowwarden would have to imitate: let dvc ask
    scheme = "https" if parts.scheme in ("https", "webdavs") else "http"
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    bare = urllib.parse.urlunsplit((scheme, host, parts.path.rstrip("/") + "/", "", ""))
    user = urllib.parse.unquote(parts.username or "") or options.get("user", "")
    password = urllib.parse.unquote(parts.password or "") or options.get("password", "")
    request = urllib.request.Request(bare, method="HEAD")  # noqa: S310 - http(s) only
    if user or password:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context()
    verify = options.get("ssl_verify", "true").lower()
    if verify in ("false", "0", "no"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif verify not in ("true", "1", "yes"):
        context.load_verify_locations(verify)
    handler = urllib.request.HTTPSHandler(context=context)

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        """A redirect is not followed (it would carry the credentials wherever it points):
        the 3xx itself is the answer, and says the remote is there."""

        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(handler, urllib.request.ProxyHandler(), _NoRedirect())
    shown = redact(url)

    def scrub(text: object) -> str:  # a reply may echo what it was sent
        said = redact(str(text))
        for secret in (password, user, request.get_header("Authorization", "")):
            said = said.replace(secret, "***") if secret and len(secret) > 2 else said
        return said[:200]

    try:
        within(timeout * 2, lambda: opener.open(request, timeout=timeout).close())
    except urllib.error.HTTPError as error:
        if error.code in (401, 403, 407):
            raise CannotCheck(f"{shown} answered HTTP {error.code}: the "
                              "credentials are missing, wrong or expired") from None
        if error.code >= 500:
            raise CannotCheck(f"{shown} answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise CannotCheck(f"cannot reach {shown}: {scrub(reason)}") from None


def within(seconds: float, call: Callable[[], T]) -> T:
    """`call()`'s result or exception, or TimeoutError (an OSError: "cannot check") when it
    takes over `seconds` in all; the call is left running in a daemon thread that the
    process's exit ends."""
    import threading

    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(error)

    thread = threading.Thread(target=run, daemon=True, name="flowwarden-deadline")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {seconds:.0f} s")
    if failure:
        raise failure[0]
    return result[0]


def cli_missing(root: Path, remote: str, outputs: Sequence[Output],
                project: str = "") -> list[Missing]:
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
    # the command runs inside the DVC project, with paths relative to it
    def inside(path: str) -> str:
        return posixpath.relpath(path, project) if project else path

    targets = sorted({inside(_status_target(s)) for s in sources})
    here = _worktree_outputs(root, sources)
    differing = sorted({o.source for o in outputs if (o.path, o.md5) not in here})
    if differing:
        raise LookupError(f"the working tree's {', '.join(differing)} differ from the pushed "
                          "version, and the dvc command can only check the working tree")
    try:
        _, out = proc.run([command, "status", "--cloud", "--remote", remote, "--json",
                           *targets], cwd=root / project)
    except proc.CommandError as error:
        if "requires '" in str(error):
            raise ImportError(str(error)) from error
        raise
    status = json.loads(out or b"{}")
    return [Missing(o, 1, (), True) for o in outputs
            if status.get(inside(o.path)) in ("new", "missing", "modified")]


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
