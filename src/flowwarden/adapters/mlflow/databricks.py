"""Databricks: `databricks` or `databricks://<profile>`, MLflow's REST API at
`<host>/api/2.0/mlflow/...` with a Bearer token.

As MLflow (through the Databricks SDK) finds them: DATABRICKS_HOST and DATABRICKS_TOKEN,
else the profile (DEFAULT, or the one the URI names) in DATABRICKS_CONFIG_FILE or
~/.databrickscfg. A profile named in the URI wins over the environment.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flowwarden.adapters.mlflow import StoreUnreachable
from flowwarden.adapters.mlflow.rest import RestStore
from flowwarden.core.redact import redact

HINT = ("set DATABRICKS_HOST and DATABRICKS_TOKEN, or a host and token in ~/.databrickscfg "
        "(databricks configure)")


def databricks_store(uri: str, env: Mapping[str, str], timeout: float) -> RestStore:
    profile = _profile_name(uri)
    host, token = None, None
    if profile is None:
        host, token = env.get("DATABRICKS_HOST"), env.get("DATABRICKS_TOKEN")
    if not (host and token):
        section = _profile(env, profile or "DEFAULT")
        host = host or section.get("host")
        token = token or section.get("token")
    if not host or not token:
        missing = "host" if not host else "token"
        raise StoreUnreachable(f"{uri}: no Databricks {missing} for profile "
                               f"{profile or 'DEFAULT'}; {HINT}")
    base = host.strip().rstrip("/")
    if "://" not in base:
        base = "https://" + base
    return RestStore(redact(base) if uri == "databricks" else f"{uri} ({redact(base)})",
                     base, f"Bearer {token.strip()}", env, timeout,
                     auth_hint="check the Databricks token (DATABRICKS_TOKEN or the profile)")


def _profile_name(uri: str) -> str | None:
    # databricks://profile, or databricks://profile:prefix (a secret scope): the profile.
    if "://" not in uri:
        return None
    name = uri.split("://", 1)[1].split(":", 1)[0].strip("/")
    return name or None


def _profile(env: Mapping[str, str], name: str) -> dict[str, str]:
    """One section of the Databricks config file; empty when the file or section is absent."""
    import configparser

    path = env.get("DATABRICKS_CONFIG_FILE")
    home = env.get("HOME")
    file = Path(path).expanduser() if path else (Path(home) if home else Path.home()) \
        / ".databrickscfg"
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(file, encoding="utf-8")
    except (OSError, configparser.Error) as error:
        raise StoreUnreachable(f"cannot read {file}: {error}") from None
    if name == "DEFAULT":
        return dict(parser.defaults())
    return dict(parser[name]) if parser.has_section(name) else {}
