"""Fixtures for the run rules: a real `mlflow server`, real stores, real runs.

The server starts once per test session (it takes 20-40 s) with a sqlite backend in a
temporary directory; runs are created with the real MLflow client.
"""
from __future__ import annotations

import base64
import contextlib
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from runkit import AuthProxy, Runs, mlflow_client, populate


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a real `mlflow server` on 127.0.0.1, sqlite backend, killed at the end.

    It binds port 0 and the test reads the port it got from its log: a port picked free
    beforehand could be taken by another process before the server binds it.
    """
    work = tmp_path_factory.mktemp("mlflow-server")
    log = (work / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", "0",
         "--workers", "1", "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}",
         "--default-artifact-root", str(work / "artifacts")],
        cwd=work, stdout=log, stderr=subprocess.STDOUT, env=_server_env(),
        start_new_session=True)  # its own process group: uvicorn's children die with it
    try:
        yield _wait_healthy(proc, work / "server.log")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


# uvicorn (MLflow 3) and gunicorn (MLflow 2) each log the address they bound.
LISTENING = re.compile(r"(?:Uvicorn running on|Listening at:) (http://127\.0\.0\.1:[1-9][0-9]*)")


def _wait_healthy(proc: subprocess.Popen[bytes], log: Path) -> str:
    """The server's URL once it answers /health."""
    deadline = time.monotonic() + 120
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mlflow server exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        bound = LISTENING.search(log.read_text(errors="replace"))
        try:
            if bound:
                with opener.open(f"{bound[1]}/health", timeout=2) as response:
                    if response.status == 200:
                        return bound[1]
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"mlflow server not healthy after 120 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def client(mlflow_server: str) -> Any:
    return mlflow_client(mlflow_server)


@pytest.fixture(scope="session")
def server_runs(mlflow_server: str, client: Any) -> Runs:
    return populate(client, mlflow_server)


@pytest.fixture(scope="session")
def sqlite_runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    path = tmp_path_factory.mktemp("sqlite-store") / "mlflow.db"
    return populate(mlflow_client(f"sqlite:///{path}"), f"sqlite:///{path}")


@pytest.fixture(scope="session")
def file_runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("file-store") / "mlruns"
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 refuses new file stores otherwise
    try:
        return populate(mlflow_client(root.as_uri()), str(root))
    finally:
        del os.environ["MLFLOW_ALLOW_FILE_STORE"]


# --- a loopback server that demands credentials -----------------------------------------


@contextlib.contextmanager
def serve_auth_proxy(mlflow_server: str, tls: ssl.SSLContext | None = None
                     ) -> Iterator[AuthProxy]:
    """Forwards `/<prefix>/api/...` to the real server when Basic or Bearer auth is right.

    The prefix stands for DagsHub's `https://dagshub.com/<owner>/<repo>.mlflow` form.
    """
    prefix = "/ada/churn-model.mlflow"
    user, password, token = "ada", "s3cret", "tok-" + uuid.uuid4().hex
    accepted = {"Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
                f"Bearer {token}"}
    upstream = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            for moved, host in (("/moved/", "127.0.0.1"), ("/elsewhere/", "localhost")):
                if self.path.startswith(moved):  # a relocated server, maybe on another host
                    port = self.server.server_address[1]
                    self._answer(308, b"", f"http://{host}:{port}{prefix}/"
                                 f"{self.path[len(moved):]}")
                    return
            if self.headers.get("Authorization") not in accepted:
                self._answer(401, b'{"error_code": "UNAUTHENTICATED"}')
                return
            if self.path.startswith("http://"):  # asked as a forward proxy
                self.path = "/" + self.path.split("/", 3)[3]
            if not self.path.startswith(prefix + "/"):
                self._answer(404, b'{"error_code": "ENDPOINT_NOT_FOUND"}')
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            request = urllib.request.Request(
                mlflow_server + self.path[len(prefix):], data=body, method=self.command,
                headers={"Content-Type": "application/json"})
            try:
                with upstream.open(request, timeout=10) as response:
                    self._answer(response.status, response.read())
            except urllib.error.HTTPError as error:
                self._answer(error.code, error.read())

        def _answer(self, status: int, body: bytes, location: str | None = None) -> None:
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _forward

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        origin = f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
        yield AuthProxy(origin + prefix, origin, user, password, token)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def auth_proxy(mlflow_server: str) -> Iterator[AuthProxy]:
    with serve_auth_proxy(mlflow_server) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate for 127.0.0.1 (cryptography comes with mlflow); key beside it."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                 x509.DNSName("tracking.invalid")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return folder / "cert.pem"


@pytest.fixture(scope="session")
def tls_proxy(mlflow_server: str, self_signed: Path) -> Iterator[AuthProxy]:
    """The auth proxy over HTTPS with a self-signed certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(self_signed, self_signed.parent / "key.pem")
    with serve_auth_proxy(mlflow_server, context) as proxy:
        yield proxy


@pytest.fixture
def closed_port_uri() -> Iterator[str]:
    """A loopback URL where nothing listens: connections are refused at once.

    The port stays bound (without listening) for the test, so no other process can take it
    and answer.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.fixture
def silent_uri() -> Iterator[str]:
    """A loopback URL that accepts connections and never answers, to exercise timeouts."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()

