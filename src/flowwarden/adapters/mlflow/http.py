"""HTTP for the REST stores, with urllib3 and the settings MLflow's own client honours.

TLS: MLFLOW_TRACKING_INSECURE_TLS ("true"/"1", as MLflow parses booleans),
MLFLOW_TRACKING_SERVER_CERT_PATH, else REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE (what requests
reads), MLFLOW_TRACKING_CLIENT_CERT_PATH for a client certificate. Proxies: HTTPS_PROXY /
HTTP_PROXY and NO_PROXY, never for loopback. Redirects are followed by hand so that the
Authorization header goes only to the origin it was given for.

The server is not trusted: a reply is read up to MAX_BODY bytes (after any decompression),
and the whole request, body included, within the timeout, so a reply that never ends or
drips a byte at a time costs neither memory nor an unbounded wait.

urllib3 is imported only here, and this module only when a REST store is asked something.
"""
from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

import urllib3

from flowwarden.adapters.mlflow import StoreUnreachable
from flowwarden.core.redact import redact

REDIRECTS = frozenset({301, 302, 303, 307, 308})
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_BODY = 16 * 1024**2  # bytes: a page of 100 runs is far less
CHUNK = 64 * 1024
TRUE = frozenset({"true", "1"})  # mlflow.environment_variables._BooleanEnvironmentVariable


class Answer(NamedTuple):
    status: int
    content_type: str
    body: bytes


class Http:
    """One origin's client: a pool (direct or through the environment's proxy) and its auth."""

    def __init__(self, base: str, auth: str | None, env: Mapping[str, str],
                 timeout: float) -> None:
        self.base = base.rstrip("/")  # scheme://host[:port][/prefix], without userinfo
        self.origin = _origin(self.base)
        self.auth = auth
        self.secrets = _secrets(auth)
        self.env = env
        self.seconds = timeout  # for the whole request, redirects and body included
        self._pools: dict[str, urllib3.PoolManager] = {}

    def request(self, method: str, path: str, body: bytes = b"") -> Answer:
        """`method` on base + `path`; redirects followed, auth kept to its own origin."""
        url = self.base + path
        deadline = time.monotonic() + self.seconds
        try:
            for _hop in range(5):
                headers = {"Accept": "application/json", "User-Agent": "flowwarden"}
                if body:
                    headers["Content-Type"] = "application/json"
                if self.auth and _keeps_auth(self.origin, _origin(url)):
                    headers["Authorization"] = self.auth
                left = max(deadline - time.monotonic(), 0.001)
                response = self._pool(url).request(
                    method, url, body=body or None, headers=headers, redirect=False,
                    retries=False, timeout=urllib3.Timeout(total=left), preload_content=False)
                whole = False
                try:
                    location = response.headers.get("location")
                    if response.status not in REDIRECTS or not location:
                        answer = Answer(response.status,
                                        response.headers.get("content-type", "")[:200],
                                        self._body(response, deadline))
                        whole = True
                        return answer
                finally:
                    if not whole:  # unread bytes must not reach the next request's reply
                        response.close()
                    response.release_conn()
                url = urljoin(url, location)
                if response.status == 303:
                    method, body = "GET", b""
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as error:
            raise StoreUnreachable(f"{redact(self.base)} did not answer: "
                                   f"{self.said(_reason(error))}") from None
        raise StoreUnreachable(f"{redact(self.base)} redirected more than 4 times, the last "
                               f"to {self.said(url)}")

    def scrub(self, text: str) -> str:
        """`text` with the credentials sent to this server replaced by `***`."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def said(self, text: str, limit: int = 200) -> str:
        """Text the server chose, fit for a message: clipped, URLs redacted, and the
        credentials sent to it replaced by `***` (a server may echo them back)."""
        text = redact(self.scrub(text)[:limit * 2])  # scrub before clipping cuts a secret;
        # clip before redacting, whose scan is not linear
        return text[:limit] + ("..." if len(text) > limit else "")

    def _body(self, response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
        """The reply's body, at most MAX_BODY bytes, read before `deadline` (monotonic)."""
        # read1 returns what one receive brings: a byte every few ms still meets the deadline.
        read = getattr(response, "read1", response.read)
        chunks, size = [], 0
        while chunk := read(CHUNK):
            size += len(chunk)
            if size > MAX_BODY:
                raise StoreUnreachable(f"{redact(self.base)} answered more than "
                                       f"{MAX_BODY // 1024**2} MiB: not a tracking server's reply")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no whole reply within {self.seconds:g} s")
            chunks.append(chunk)
        return b"".join(chunks)

    def _pool(self, url: str) -> urllib3.PoolManager:
        parts = urlsplit(url)
        proxy = proxy_for(parts.scheme, parts.hostname or "", self.env)
        secure = parts.scheme == "https"
        key = f"{proxy or ''} {secure}"
        if key not in self._pools:
            # Loading the CA store costs more than a loopback request: only for https.
            tls = tls_settings(self.env) if secure else {}
            if proxy:
                self._pools[key] = urllib3.ProxyManager(proxy, num_pools=2, **tls)
            else:
                self._pools[key] = urllib3.PoolManager(num_pools=2, **tls)
        return self._pools[key]


def tls_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The pool's TLS arguments from the variables MLflow (and requests under it) read."""
    if env.get("MLFLOW_TRACKING_INSECURE_TLS", "").strip().lower() in TRUE:
        # Asked for by name: no warning on every hook run (MLflow's client warns once).
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        return {"cert_reqs": "CERT_NONE", "assert_hostname": False}
    bundle = (env.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or env.get("REQUESTS_CA_BUNDLE")
              or env.get("CURL_CA_BUNDLE") or None)
    from pathlib import Path

    is_dir = bool(bundle) and Path(str(bundle)).is_dir()
    context = ssl.create_default_context(cafile=None if is_dir else bundle,
                                         capath=bundle if is_dir else None)
    client = env.get("MLFLOW_TRACKING_CLIENT_CERT_PATH")
    if client:
        context.load_cert_chain(client)
    return {"ssl_context": context}


def proxy_for(scheme: str, host: str, env: Mapping[str, str]) -> str | None:
    """The proxy the environment names for `host`; never for loopback or NO_PROXY hosts."""
    lowered = {k.lower(): v for k, v in env.items() if v}
    proxy = lowered.get(f"{scheme}_proxy") or lowered.get("all_proxy")
    if not proxy or host in LOOPBACK or bypassed(host, lowered.get("no_proxy", "")):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def bypassed(host: str, no_proxy: str) -> bool:
    """curl's no_proxy rules: `*`, or a host name or domain suffix, ports ignored."""
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        name = (entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry).lstrip(".")
        if entry == "*" or (name and (host == name or host.endswith("." + name))):
            return True
    return False


def _secrets(auth: str | None) -> list[str]:
    """What of an Authorization header must never be printed: the header's credential, and
    for Basic the password it encodes. Longest first; shorter than 4 characters, none."""
    if not auth:
        return []
    scheme, _, credential = auth.partition(" ")
    found = {credential}
    if scheme == "Basic":
        import base64
        import binascii

        try:
            found.add(base64.b64decode(credential).decode().partition(":")[2])
        except (binascii.Error, UnicodeDecodeError):
            pass
    return sorted((s for s in found if len(s) >= 4), key=len, reverse=True)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default


def _keeps_auth(configured: tuple[str, str, int | None],
                here: tuple[str, str, int | None]) -> bool:
    """The configured origin, or its upgrade from http:80 to https:443 (as requests allows)."""
    upgrade = configured[::2] == ("http", 80) and here[::2] == ("https", 443)
    return here == configured or (configured[1] == here[1] and upgrade)


def _reason(error: BaseException) -> str:
    """The innermost cause, without urllib3's object reprs."""
    cause: BaseException = error
    while True:
        inner = getattr(cause, "reason", None)
        if not isinstance(inner, BaseException) or inner is cause:
            break
        cause = inner
    text = str(cause)
    if isinstance(cause, urllib3.exceptions.NewConnectionError):
        text = text.split(": ", 1)[-1]  # drop "HTTPConnection(host=..., port=...)"
    return text or type(cause).__name__
