"""The MLflow adapter: read runs from a tracking store without importing mlflow.

`import mlflow` costs seconds, so each store is read with the standard library: the REST API
over a socket (urllib only behind a proxy), MLflow's sqlite database with sqlite3
(read-only), and a `./mlruns` file store's files directly.
"""
from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from urllib.parse import (
    SplitResult,
    quote,
    unquote,
    urlencode,
    urljoin,
    urlsplit,
    urlunsplit,
)

if TYPE_CHECKING:
    import sqlite3

RUN_ID = re.compile(r"[0-9a-f]{32}")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
DEFAULT_TIMEOUT = 3.0
BRANCH_TAG = "mlflow.source.git.branch"
COMMIT_TAG = "mlflow.source.git.commit"
# The file store writes RunStatus as its protobuf number.
FILE_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}


class StoreUnreachable(Exception):
    """The tracking store could not answer; the message is a one-line reason."""


class Run(NamedTuple):
    """One MLflow run as flowwarden needs it; metrics are each key's latest value."""

    id: str
    status: str  # RUNNING, SCHEDULED, FINISHED, FAILED, KILLED
    lifecycle_stage: str  # active or deleted
    start_time: int | None  # milliseconds since the epoch
    metrics: Mapping[str, float]
    params: Mapping[str, str]
    tags: Mapping[str, str]

    @property
    def deleted(self) -> bool:
        return self.lifecycle_stage == "deleted"

    @property
    def name(self) -> str:
        return self.tags.get("mlflow.runName", "")


def make_run(run_id: str, status: str, lifecycle_stage: str, start_time: int | None,
             metrics: Mapping[str, float], params: Mapping[str, str],
             tags: Mapping[str, str]) -> Run:
    """A Run whose mappings are read-only views, so the record stays immutable."""
    return Run(run_id, status, lifecycle_stage, start_time, MappingProxyType(dict(metrics)),
               MappingProxyType(dict(params)), MappingProxyType(dict(tags)))


class TrackingStore(Protocol):
    """What the rules ask of a tracking store."""

    uri: str

    def get_run(self, run_id: str) -> Run | None:
        """The run, or None when the store has no run with this id."""

    def search_runs(self, branch: str, since_ms: int | None) -> list[Run]:
        """Active runs tagged with git `branch`, started at or after `since_ms`, oldest first."""


# --- choosing a store -----------------------------------------------------------------


def resolve_uri(configured: str | None, env: Mapping[str, str], root: Path | None) -> str | None:
    """The policy's URI, else MLFLOW_TRACKING_URI, else MLflow's own local default if present.

    The policy wins over the environment: CI and the server must check the team's store.
    """
    if configured:
        return configured
    if env.get("MLFLOW_TRACKING_URI"):
        return env["MLFLOW_TRACKING_URI"]
    base = root or Path.cwd()
    if any(p.name != ".trash" for p in _subdirs(base / "mlruns")):
        return str(base / "mlruns")
    if (base / "mlflow.db").is_file():
        return "sqlite:///mlflow.db"
    return None


def open_store(uri: str, env: Mapping[str, str], root: Path | None = None,
               timeout: float = DEFAULT_TIMEOUT) -> TrackingStore:
    """The store for `uri`; relative paths are taken from the repository root."""
    scheme = urlsplit(uri).scheme.lower()
    base = root or Path.cwd()
    if scheme in ("http", "https"):
        return RestStore(uri, env, timeout)
    if scheme == "sqlite":
        return SqliteStore(uri, _sqlite_path(uri, base), timeout)
    if scheme == "file":
        return FileStore(uri, base / unquote(urlsplit(uri).path))
    if (scheme == "" or len(scheme) == 1) and uri != "databricks":  # a path or a drive letter
        return FileStore(uri, base / uri)
    raise StoreUnreachable(f"unsupported tracking URI scheme '{scheme}' in {redact(uri)} "
                           "(flowwarden reads http(s)://, sqlite:/// and file stores)")


def _sqlite_path(uri: str, base: Path) -> Path:
    # sqlite:///rel.db is relative to the working directory, sqlite:////abs.db absolute.
    rest = uri.split(":", 1)[1]
    if not rest.startswith("//"):
        raise StoreUnreachable(f"malformed sqlite URI {uri}: expected sqlite:///path")
    path = unquote(rest[2:].split("?", 1)[0])
    path = path[1:] if path.startswith("/") else path
    return base / path


def redact(uri: str) -> str:
    """`uri` without a password, for messages."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


# --- REST ------------------------------------------------------------------------------


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
            status, fields, raw = _exchange(parts, method, target, headers, body,
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


def _exchange(parts: SplitResult, method: str, target: str, headers: Mapping[str, str],
              body: bytes, timeout: float,
              tls: Callable[[], Any]) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.0 request on a fresh connection: (status, header fields, body).

    A hook makes one or two requests; http.client and urllib cost ~30 ms to import, more
    than the round trip to a local server.
    """
    import socket

    host = parts.hostname or ""
    secure = parts.scheme == "https"
    deadline = time.monotonic() + timeout
    sock = socket.create_connection((host, parts.port or (443 if secure else 80)), timeout)
    try:
        if secure:
            sock = tls().wrap_socket(sock, server_hostname=host)
        name = f"[{host}]" if ":" in host else host
        lines = [f"{method} {target} HTTP/1.0", f"Host: {name}" + (
            f":{parts.port}" if parts.port else ""),
            *(f"{k}: {v}" for k, v in headers.items()),
            f"Content-Length: {len(body)}", "Connection: close", "", ""]
        sock.sendall("\r\n".join(lines).encode("latin-1") + body)
        return _response(sock, deadline)
    finally:
        sock.close()


def _response(sock: Any, deadline: float) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = _recv(sock, deadline)
        if not chunk:
            raise ValueError("the connection closed before a response")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    fields = {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in lines)}
    length = int(fields["content-length"]) if "content-length" in fields else None
    while length is None or len(body) < length:
        chunk = _recv(sock, deadline)
        if not chunk:
            break
        body += chunk
    if "chunked" in fields.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    return status, fields, body


def _recv(sock: Any, deadline: float) -> bytes:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("timed out")
    sock.settimeout(remaining)
    chunk: bytes = sock.recv(65536)
    return chunk


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out


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
        {m["key"]: _float(m.get("value")) for m in data.get("metrics", [])},
        {p["key"]: str(p.get("value", "")) for p in data.get("params", [])},
        {t["key"]: str(t.get("value", "")) for t in data.get("tags", [])},
    )


def _float(value: Any) -> float:
    # The REST API writes NaN and infinities as strings.
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


# --- sqlite ----------------------------------------------------------------------------


class SqliteStore:
    """MLflow's SQLAlchemy store in a sqlite file, opened read-only."""

    def __init__(self, uri: str, path: Path, timeout: float) -> None:
        self.uri = uri
        self.path = path
        self.timeout = timeout

    def get_run(self, run_id: str) -> Run | None:
        with self._connect() as db:
            row = db.execute("SELECT run_uuid, status, lifecycle_stage, start_time FROM runs "
                             "WHERE run_uuid = ?", (run_id,)).fetchone()
            return self._run(db, row) if row else None

    def search_runs(self, branch: str, since_ms: int | None) -> list[Run]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT r.run_uuid, r.status, r.lifecycle_stage, r.start_time FROM runs r "
                "JOIN tags t ON t.run_uuid = r.run_uuid AND t.key = ? "
                "JOIN experiments e ON e.experiment_id = r.experiment_id "
                "WHERE t.value = ? AND r.lifecycle_stage = 'active' "
                "AND e.lifecycle_stage = 'active' AND r.start_time >= ? "
                "ORDER BY r.start_time LIMIT 300",
                (BRANCH_TAG, branch, since_ms if since_ms is not None else -1)).fetchall()
            return [self._run(db, row) for row in rows]

    def _connect(self) -> _ReadOnly:
        if not self.path.is_file():
            raise StoreUnreachable(f"no MLflow database at {self.path} ({self.uri})")
        import sqlite3  # only sqlite stores pay for it

        try:
            db = sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro", uri=True,
                                 timeout=self.timeout)
        except sqlite3.Error as error:
            raise StoreUnreachable(f"cannot open {self.path}: {error}") from None
        return _ReadOnly(db, self.path)

    def _run(self, db: sqlite3.Connection, row: tuple[Any, ...]) -> Run:
        run_id, status, stage, start = row
        return make_run(run_id, status, stage, start, self._metrics(db, run_id),
                        dict(db.execute("SELECT key, value FROM params WHERE run_uuid = ?",
                                        (run_id,)).fetchall()),
                        dict(db.execute("SELECT key, value FROM tags WHERE run_uuid = ?",
                                        (run_id,)).fetchall()))

    def _metrics(self, db: sqlite3.Connection, run_id: str) -> dict[str, float]:
        import sqlite3

        try:
            rows = db.execute("SELECT key, value, is_nan FROM latest_metrics "
                              "WHERE run_uuid = ?", (run_id,)).fetchall()
        except sqlite3.OperationalError:
            # Stores older than MLflow 1.9 have no latest_metrics: take the last step.
            rows = db.execute(
                "SELECT key, value, is_nan FROM metrics m WHERE run_uuid = ? AND "
                "(step, timestamp) = (SELECT step, timestamp FROM metrics WHERE "
                "run_uuid = m.run_uuid AND key = m.key ORDER BY step DESC, timestamp DESC "
                "LIMIT 1)", (run_id,)).fetchall()
        return {key: math.nan if is_nan else float(value) for key, value, is_nan in rows}


class _ReadOnly:
    """A connection that turns sqlite errors into StoreUnreachable and always closes."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 _tb: object) -> None:
        import sqlite3

        self.db.close()
        if isinstance(error, sqlite3.Error):
            raise StoreUnreachable(f"cannot read {self.path} as an MLflow store: {error}") \
                from None


# --- file store ------------------------------------------------------------------------


class FileStore:
    """A `./mlruns` directory: `<experiment>/<run>/{meta.yaml,metrics,params,tags}`."""

    def __init__(self, uri: str, root: Path) -> None:
        self.uri = uri
        self.root = root

    def get_run(self, run_id: str) -> Run | None:
        self._require_root()
        for experiment in self._experiments(include_trash=True):
            if (experiment / run_id / "meta.yaml").is_file():
                deleted = experiment.parent.name == ".trash"
                return self._run(experiment / run_id, deleted)
        return None

    def search_runs(self, branch: str, since_ms: int | None) -> list[Run]:
        self._require_root()
        runs = []
        for experiment in self._experiments(include_trash=False):
            if _meta(experiment / "meta.yaml").get("lifecycle_stage") == "deleted":
                continue
            for run_dir in _subdirs(experiment):
                tag = _read(run_dir / "tags" / BRANCH_TAG)
                if tag is None or tag.strip() != branch:
                    continue
                run = self._run(run_dir, deleted=False)
                if not run.deleted and (since_ms is None or (run.start_time or 0) >= since_ms):
                    runs.append(run)
        return sorted(runs, key=lambda r: r.start_time or 0)

    def _require_root(self) -> None:
        if not self.root.is_dir():
            raise StoreUnreachable(f"no MLflow file store at {self.root} ({self.uri})")

    def _experiments(self, include_trash: bool) -> Iterator[Path]:
        for child in _subdirs(self.root):
            if child.name == ".trash":
                if include_trash:
                    yield from _subdirs(child)
            elif (child / "meta.yaml").is_file():
                yield child

    def _run(self, run_dir: Path, deleted: bool) -> Run:
        meta = _meta(run_dir / "meta.yaml")
        status = str(meta.get("status"))
        start = meta.get("start_time")
        return make_run(
            run_dir.name,
            FILE_STATUS.get(int(status), status) if status.isdigit() else status,
            "deleted" if deleted else str(meta.get("lifecycle_stage", "active")),
            int(start) if start is not None else None,
            {key: _latest_metric(text) for key, text in _key_files(run_dir / "metrics")},
            dict(_key_files(run_dir / "params")),
            dict(_key_files(run_dir / "tags")),
        )


def _meta(path: Path) -> dict[str, Any]:
    # PyYAML is a declared dependency; only the file store pays for its import.
    import yaml

    text = _read(path)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    value = yaml.load(text, Loader=loader) if text else None
    return value if isinstance(value, dict) else {}


def _key_files(folder: Path) -> Iterator[tuple[str, str]]:
    """(key, content) for each file under `folder`; keys with '/' are nested folders."""
    if not folder.is_dir():
        return
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            yield path.relative_to(folder).as_posix(), _read(path) or ""


def _latest_metric(text: str) -> float:
    # Each line is `timestamp value step`; MLflow's latest value is the highest step, then time.
    best: tuple[int, int, float] | None = None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        entry = (int(fields[2]) if len(fields) > 2 else 0, int(fields[0]), _float(fields[1]))
        if best is None or entry[:2] >= best[:2]:
            best = entry
    return best[2] if best else math.nan


def _subdirs(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir()]
    except OSError:
        return []


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None
