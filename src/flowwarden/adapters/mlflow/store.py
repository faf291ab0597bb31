"""Which tracking store a URI names, and opening it."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flowwarden.adapters.mlflow import (
    DEFAULT_TIMEOUT,
    StoreUnreachable,
    TrackingStore,
    redact,
)
from flowwarden.adapters.mlflow.filestore import FileStore, subdirs
from flowwarden.adapters.mlflow.rest import RestStore
from flowwarden.adapters.mlflow.sqlite import SqliteStore


def resolve_uri(configured: str | None, env: Mapping[str, str], root: Path | None) -> str | None:
    """The policy's URI, else MLFLOW_TRACKING_URI, else MLflow's own local default if present.

    The policy wins over the environment: CI and the server must check the team's store.
    """
    if configured:
        return configured
    if env.get("MLFLOW_TRACKING_URI"):
        return env["MLFLOW_TRACKING_URI"]
    base = root or Path.cwd()
    if any(p.name != ".trash" for p in subdirs(base / "mlruns")):
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
