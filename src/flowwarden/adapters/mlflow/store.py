"""Which tracking store a URI names, found the way MLflow 3 finds it, and opening it."""
from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flowwarden.adapters.mlflow import (
    DEFAULT_TIMEOUT,
    StoreUnreachable,
    TrackingStore,
)
from flowwarden.adapters.mlflow.filestore import FileStore
from flowwarden.adapters.mlflow.sqlite import SqliteStore
from flowwarden.core.redact import redact

DEFAULT_DB = "sqlite:///mlflow.db"  # MLflow 3's default tracking URI
#: Folders the search for store files never enters, and its bounds: it runs only to explain
#: a missing store, and must stay cheap in a large repository.
SKIPPED = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env"})
MAX_DEPTH, MAX_DIRS, MAX_FOUND = 4, 2000, 5
TRUE = frozenset({"true", "1"})


def resolve_uri(configured: str | None, env: Mapping[str, str], root: Path | None) -> str | None:
    """The policy's URI, else MLFLOW_TRACKING_URI, else what MLflow 3 uses by default.

    The policy wins over the environment: CI and the server must check the team's store.
    MLflow 3 keeps using `./mlruns` only when it holds experiments (`<digits>/meta.yaml`);
    an `./mlruns` beside `mlflow.db` that holds only artifacts is an artifact folder.
    """
    if configured:
        return configured
    if env.get("MLFLOW_TRACKING_URI"):
        return env["MLFLOW_TRACKING_URI"]
    base = root or Path.cwd()
    has_db = (base / "mlflow.db").is_file()
    if is_file_store(base / "mlruns") and (
            not has_db or env.get("MLFLOW_ALLOW_FILE_STORE", "").lower() in TRUE):
        return "./mlruns"
    return DEFAULT_DB if has_db else None


def is_file_store(folder: Path) -> bool:
    """MLflow's own test: an experiment folder (all digits) with a meta.yaml."""
    try:
        with os.scandir(folder) as entries:
            return any(e.is_dir() and e.name.isdigit()
                       and os.path.lexists(os.path.join(e.path, "meta.yaml")) for e in entries)
    except OSError:
        return False


def found_stores(root: Path) -> list[str]:
    """Store files in the repository (`src/mlflow.db`, `notebooks/mlruns`), a bounded walk."""
    return list(_walk(root))[:MAX_FOUND]


def _walk(root: Path) -> Iterator[str]:
    seen = 0
    queue = [(root, 0)]
    while queue and seen < MAX_DIRS:
        folder, depth = queue.pop(0)
        seen += 1
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            rel = Path(entry.path).relative_to(root).as_posix()
            if entry.name == "mlflow.db" and entry.is_file():
                yield rel
            elif entry.is_dir(follow_symlinks=False):
                if entry.name == "mlruns":
                    if is_file_store(Path(entry.path)):
                        yield rel + "/"
                elif (depth < MAX_DEPTH and not entry.name.startswith(".")
                      and entry.name not in SKIPPED):
                    queue.append((Path(entry.path), depth + 1))


def missing_store_hint(root: Path) -> str:
    """What to set when no store is configured, naming the store files the repo holds."""
    found = found_stores(root)
    if not found:
        return ("set runs.tracking_uri in the policy (or MLFLOW_TRACKING_URI); CI and the "
                "server need the team's shared store")
    uris = [f"sqlite:///{f}" if f.endswith(".db") else f"./{f.rstrip('/')}" for f in found]
    return (f"found {', '.join(found)} in the repository (training ran from another "
            f"folder?): set runs.tracking_uri to the store, e.g. {uris[0]}")


def open_store(uri: str, env: Mapping[str, str], root: Path | None = None,
               timeout: float = DEFAULT_TIMEOUT) -> TrackingStore:
    """The store for `uri`; relative paths are taken from the repository root."""
    scheme = urlsplit(uri).scheme.lower()
    base = root or Path.cwd()
    if scheme in ("http", "https"):
        from flowwarden.adapters.mlflow.rest import server_store  # urllib3: only when asked

        return server_store(uri, env, timeout)
    if scheme == "databricks" or uri == "databricks":
        from flowwarden.adapters.mlflow.databricks import databricks_store

        return databricks_store(uri, env, timeout)
    if scheme == "sqlite":
        path, relative = _sqlite_path(uri, base)
        if relative and not path.is_file():
            raise StoreUnreachable(f"no MLflow database at {path} ({uri}, relative to the "
                                   f"repository root); {missing_store_hint(base)}")
        return SqliteStore(uri, path, timeout)
    if scheme == "file":
        return FileStore(uri, base / unquote(urlsplit(uri).path))
    if scheme == "" or len(scheme) == 1:  # a path or a drive letter
        if not Path(uri).is_absolute() and not (base / uri).is_dir():
            raise StoreUnreachable(f"no MLflow file store at {base / uri} ({uri}, relative to "
                                   f"the repository root); {missing_store_hint(base)}")
        return FileStore(uri, base / uri)
    raise StoreUnreachable(
        f"unsupported tracking URI scheme '{scheme}' in {redact(uri)}: flowwarden reads "
        "http(s):// servers (DagsHub included), databricks[://profile], sqlite:/// and file "
        "stores; point runs.tracking_uri at the MLflow server in front of this database")


def _sqlite_path(uri: str, base: Path) -> tuple[Path, bool]:
    # sqlite:///rel.db is relative to the working directory, sqlite:////abs.db absolute.
    rest = uri.split(":", 1)[1]
    if not rest.startswith("//"):
        raise StoreUnreachable(f"malformed sqlite URI {uri}: expected sqlite:///path")
    path = unquote(rest[2:].split("?", 1)[0])
    relative = not path.startswith("//")
    path = path[1:] if path.startswith("/") else path
    return base / path, relative
