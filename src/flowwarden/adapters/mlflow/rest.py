"""An MLflow tracking server over its REST API: self-hosted, or DagsHub's `<owner>/<repo>.mlflow`.

Credentials come from the URI or MLFLOW_TRACKING_* variables and go only to the server's own
host; a proxy from the environment is used for other hosts, never for loopback.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote, urlencode, urljoin, urlsplit, urlunsplit

from flowwarden.adapters.mlflow import BRANCH_TAG, Run, StoreUnreachable, as_float, make_run, redact
from flowwarden.adapters.mlflow.wire import exchange

REDIRECTS = frozenset({301, 302, 303, 307, 308})


class RestStore:
    """An MLflow tracking server (self-hosted or DagsHub's `<owner>/<repo>.mlflow`)."""

    def __init__(self, uri: str, env: Mapping[str, str], timeout: float) -> None:
        self.uri = uri
        self.parts = urlsplit(uri)
        self.path = self.parts.path.rstrip("/")  # DagsHub: /<owner>/<repo>.mlflow
        self.env = env
        self.timeout = timeout

    def get_run(self, run_id: str) -> Run | None:
        status, body = self._call("GET", "runs/get?" + urlencode({"run_id": run_id}))
        if status == 404 or body.get("error_code") == "RESOURCE_DOES_NOT_EXIST":
            return None
        self._raise_for(status, body)
        return _run_from_json(body.get("run", {}))

    def search_runs(self, branch: str, since_ms: int | None) -> list[Run]:
        ids = self._experiment_ids()
        if not ids:
            return []
        clauses = [f"tags.`{BRANCH_TAG}` = '{_sql_quote(branch)}'"]
        if since_ms is not None:
            clauses.append(f"attributes.start_time >= {since_ms}")
        runs: list[Run] = []
        for page in self._pages("runs/search", {
                "experiment_ids": ids, "filter": " and ".join(clauses),
                "run_view_type": "ACTIVE_ONLY", "max_results": 100,
                "order_by": ["attributes.start_time ASC"]}, "runs", limit=3):
            runs.extend(_run_from_json(r) for r in page)
        return runs

    def _experiment_ids(self) -> list[str]:
        ids: list[str] = []
        for page in self._pages("experiments/search",
                                {"max_results": 1000, "view_type": "ACTIVE_ONLY"},
                                "experiments", limit=5):
            ids.extend(str(e["experiment_id"]) for e in page)
        return ids

    def _pages(self, endpoint: str, payload: dict[str, Any], key: str,
               limit: int) -> Iterator[list[dict[str, Any]]]:
        # Bounded: a hook must not page through a whole tracking server.
        token = None
        for _ in range(limit):
            body = {**payload, **({"page_token": token} if token else {})}
            status, answer = self._call("POST", endpoint, body)
            self._raise_for(status, answer)
            yield list(answer.get(key, []))
            token = answer.get("next_page_token")
            if not token:
                return

    def _raise_for(self, status: int, body: Mapping[str, Any]) -> None:
        if status == 200:
            return
        if status in (401, 403):
            raise StoreUnreachable(
                f"{redact(self.uri)} refused the credentials (HTTP {status}); set "
                "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN")
        detail = body.get("message") or body.get("error_code") or "no details"
        raise StoreUnreachable(f"{redact(self.uri)} answered HTTP {status}: {detail}")

    def _call(self, method: str, endpoint: str,
              payload: Mapping[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        target = f"{self.path}/api/2.0/mlflow/{endpoint}"
        body = json.dumps(payload).encode() if payload is not None else b""
        proxy = self._proxy()
        try:
            if proxy is None:
                status, raw = self._direct(method, target, body)
            else:
                status, raw = self._through_proxy(method, target, body, proxy)
        except (OSError, ValueError, IndexError) as error:
            reason = getattr(error, "reason", None) or error or type(error).__name__
            raise StoreUnreachable(f"{redact(self.uri)} did not answer: {reason}") from None
        return status, _json(raw)

    def _direct(self, method: str, target: str, body: bytes) -> tuple[int, bytes]:
        """Ask the server itself, following a few redirects (http -> https, a moved path)."""
        parts = self.parts
        for _hop in range(4):
            # Credentials go only to the host they were given for.
            headers = self._headers(with_auth=parts.hostname == self.parts.hostname)
            status, fields, raw = exchange(parts, method, target, headers, body,
                                            self.timeout, self._tls)
            if status not in REDIRECTS or "location" not in fields:
                return status, raw
            here = urlunsplit(parts._replace(path=target, query=""))
            parts = urlsplit(urljoin(here, fields["location"]))
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        raise ValueError(f"too many redirects, the last to {urlunsplit(parts)}")

    def _headers(self, with_auth: bool = True) -> dict[str, str]:
        headers = {"Accept": "application/json", "Content-Type": "application/json",
                   "User-Agent": "flowwarden"}
        if not with_auth:
            return headers
        user = self.env.get("MLFLOW_TRACKING_USERNAME")
        password = self.env.get("MLFLOW_TRACKING_PASSWORD")
        if self.parts.username and not user:
            user, password = unquote(self.parts.username), unquote(self.parts.password or "")
        if user and password is not None:
            import base64

            pair = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        elif self.env.get("MLFLOW_TRACKING_TOKEN"):
            headers["Authorization"] = f"Bearer {self.env['MLFLOW_TRACKING_TOKEN']}"
        return headers

    def _tls(self) -> Any:
        import ssl

        context = ssl.create_default_context(
            cafile=self.env.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or None)
        if self.env.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _proxy(self) -> str | None:
        """The proxy the hook's environment names for this server; never for loopback."""
        host = self.parts.hostname or ""
        lowered = {k.lower(): v for k, v in self.env.items() if v}
        proxy = lowered.get(f"{self.parts.scheme}_proxy")
        if not proxy or host in ("127.0.0.1", "localhost", "::1"):
            return None
        return None if _bypassed(host, lowered.get("no_proxy", "")) else proxy

    def _through_proxy(self, method: str, target: str, body: bytes,
                       proxy: str) -> tuple[int, bytes]:
        # Rare, so the general (and slower to import) client handles it, CONNECT included.
        import urllib.error
        import urllib.request

        origin = urlunsplit(self.parts._replace(netloc=self.parts.netloc.rpartition("@")[2],
                                                path="", query="", fragment=""))
        request = urllib.request.Request(origin + target, data=body or None, method=method,
                                         headers=self._headers())
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({self.parts.scheme: proxy}),
            urllib.request.HTTPSHandler(context=self._tls()))
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as error:
            return int(error.code), bytes(error.read())


def _bypassed(host: str, no_proxy: str) -> bool:
    """curl's no_proxy rules: `*`, or a host name or domain suffix, ports ignored."""
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        name = entry.rsplit(":", 1)[0].lstrip(".") if entry.count(":") == 1 else entry
        if entry == "*" or (name and (host == name or host.endswith("." + name))):
            return True
    return False



def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _sql_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _run_from_json(run: Mapping[str, Any]) -> Run:
    info, data = run.get("info", {}), run.get("data", {})
    start = info.get("start_time")
    return make_run(
        str(info.get("run_id") or info.get("run_uuid", "")),
        str(info.get("status", "")), str(info.get("lifecycle_stage", "active")),
        int(start) if start is not None else None,
        {m["key"]: as_float(m.get("value")) for m in data.get("metrics", [])},
        {p["key"]: str(p.get("value", "")) for p in data.get("params", [])},
        {t["key"]: str(t.get("value", "")) for t in data.get("tags", [])},
    )

