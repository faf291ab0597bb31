"""Loopback servers for the deployment tests: a CONNECT-only proxy and a plain HTML 404 site."""
from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# --- a forward proxy that only tunnels (CONNECT), recording what it was sent -------------


@contextlib.contextmanager
def serve_connect_proxy(upstream_port: int) -> Iterator[tuple[str, list[str]]]:
    """An HTTPS proxy on 127.0.0.1: every CONNECT goes to `upstream_port` on loopback.

    Yields its URL and the request heads it received (to show no credential reached it).
    """
    import select
    import socketserver

    heads: list[str] = []

    class Tunnel(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            heads.append(head)
            if not head.startswith("CONNECT "):
                self.request.sendall(b"HTTP/1.1 405 Only CONNECT\r\nContent-Length: 0\r\n\r\n")
                return
            upstream = socket.create_connection(("127.0.0.1", upstream_port), 10)
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            sockets = [self.request, upstream]
            try:
                while True:
                    ready, _, _ = select.select(sockets, [], [], 10)
                    if not ready:
                        return
                    for sock in ready:
                        chunk = sock.recv(65536)
                        if not chunk:
                            return
                        (upstream if sock is self.request else self.request).sendall(chunk)
            finally:
                upstream.close()

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Tunnel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", heads
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def serve_html_404() -> Iterator[str]:
    """A web server (a reverse proxy's default site) that answers every path with an HTML 404."""

    class Handler(BaseHTTPRequestHandler):
        def _page(self) -> None:
            body = b"<html><body><h1>404 Not Found</h1></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _page

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
