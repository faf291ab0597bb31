"""One HTTP/1.0 request on a fresh socket, with a deadline for the whole exchange.

A hook makes one or two requests; http.client and urllib cost ~30 ms to import, more than the
round trip to a local server.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import SplitResult


def exchange(parts: SplitResult, method: str, target: str, headers: Mapping[str, str],
             body: bytes, timeout: float,
             tls: Callable[[], Any]) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: (status, header fields, body)."""
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

