"""The server's probe of an HTTP DVC remote follows no redirect (it would carry the remote's
credentials elsewhere), prints nothing of them back, and is bounded in all, not per read."""
from __future__ import annotations

import http.server
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dvckit import dvc

from ci.cikit import Server

SECRET = "s3cret-pw-77"
SEEN: list[str] = []


class Elsewhere(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
        SEEN.append(self.headers.get("Authorization") or "")
        self.send_response(200)
        self.end_headers()

    do_GET = do_HEAD  # noqa: N815 - stdlib name

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def elsewhere() -> Iterator[int]:
    SEEN.clear()
    yield from _serve(Elsewhere)


def _server(tmp_path: Path, env: dict[str, str], url: str) -> Server:
    server = Server(tmp_path, env)
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dvc(dev, "init", "-q")
    dvc(dev, "remote", "add", "-d", "storage", url)
    dvc(dev, "remote", "modify", "storage", "user", "ada")
    dvc(dev, "remote", "modify", "storage", "password", SECRET)
    dev.git("add", ".dvc")
    dev.git("commit", "-qm", "Set up DVC", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    server.install_pre_receive()
    dev.git("switch", "-q", "-c", "feature/data", "develop")
    dev.write("data/e.csv", "rows\n")
    dvc(dev, "add", "-q", "data/e.csv")
    dev.git("add", "-A")
    dev.git("commit", "-qm", "Add data", "--no-verify")
    return server


def _push(server: Server, limit: float) -> tuple[int, str, float]:
    start = time.monotonic()
    done = subprocess.run(["git", "push", "origin", "feature/data"], cwd=server.dev.path,
                          env=server.dev.env, capture_output=True, text=True, timeout=limit)
    return done.returncode, done.stderr, time.monotonic() - start


def test_a_redirect_elsewhere_gets_no_credentials(tmp_path: Path, env: dict[str, str],
                                                   elsewhere: int) -> None:
    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{elsewhere}/")
            self.end_headers()

        do_GET = do_HEAD  # noqa: N815 - stdlib name

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    for port in _serve(Redirect):
        server = _server(tmp_path, env, f"http://127.0.0.1:{port}/store")
        _, err, _ = _push(server, 120)
        assert not any(SEEN), SEEN  # no Authorization reached the other port
        assert SECRET not in err, err


def test_a_reply_echoing_credentials_is_not_printed(tmp_path: Path, env: dict[str, str]
                                                    ) -> None:
    class Echo(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
            self.send_response(401, f"bad {self.headers.get('Authorization')} {SECRET}")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    for port in _serve(Echo):
        server = _server(tmp_path, env, f"http://127.0.0.1:{port}/store")
        code, err, _ = _push(server, 120)
        assert code != 0 and "401" in err, err
        assert SECRET not in err and "Basic " not in err, err


def test_a_dripping_remote_is_bounded_in_all(tmp_path: Path, env: dict[str, str]) -> None:
    class Drip(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for i in range(60):
                self.wfile.write(f"X-{i}: y\r\n".encode())
                self.wfile.flush()
                time.sleep(2)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    for port in _serve(Drip):
        server = _server(tmp_path, env, f"http://127.0.0.1:{port}/store")
        code, err, took = _push(server, 100)
        assert code != 0 and "dvc-not-pushed" in err and "no answer within" in err, err
        assert took < 45, took
