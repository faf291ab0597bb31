"""What flowwarden needs from DVC's configuration: the cache directory and the remotes.

Read the way DVC reads it: the system config, the global (user) config, the project's
`.dvc/config`, then `.dvc/config.local`, each overriding the one before; relative paths in
a file are relative to that file's directory.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from flowwarden.adapters.dvc.paths import SCHEME

_REMOTE_SECTION = re.compile(r"""^'?remote\s+"([^"]+)"'?$""")


class DvcConfig(NamedTuple):
    """Every level of DVC's configuration, merged."""

    cache_dir: Path
    default_remote: str | None
    remotes: Mapping[str, str]  # name -> url, local paths made absolute
    options: Mapping[str, Mapping[str, str]] = {}  # remote name -> its other settings


def _read_ini(path: Path, text: str | None = None) -> dict[str, dict[str, str]]:
    # DVC writes configobj-style INI; configparser reads it once interpolation is off and
    # keys keep their case. Sections look like `['remote "storage"']`.
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    if text is None:
        try:
            text = path.read_text()
        except OSError:
            return {}
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error:
        return {}
    return {section.strip("'"): {k: v.strip().strip("'\"") for k, v in parser.items(section)}
            for section in parser.sections()}


def global_config_dir(env: Mapping[str, str] = os.environ) -> Path:
    """DVC's user config directory: `$DVC_GLOBAL_CONFIG_DIR`, else the XDG one."""
    if env.get("DVC_GLOBAL_CONFIG_DIR"):
        return Path(env["DVC_GLOBAL_CONFIG_DIR"])
    base = env.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "dvc"


def system_config_dir(env: Mapping[str, str] = os.environ) -> Path:
    """DVC's system config directory: `$DVC_SYSTEM_CONFIG_DIR`, else `/etc/xdg/dvc`."""
    if env.get("DVC_SYSTEM_CONFIG_DIR"):
        return Path(env["DVC_SYSTEM_CONFIG_DIR"])
    first = (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep)[0]
    return Path(first or "/etc/xdg") / "dvc"


def read_config(dvc: Path, env: Mapping[str, str] = os.environ,
                committed: str | None = None) -> DvcConfig:
    """System, global, `.dvc/config` and `.dvc/config.local`, merged as DVC merges them.
    `committed`: the `.dvc/config` text to use instead of the work tree's (in CI, the one the
    target holds: the incoming commits must not choose where credentials are sent)."""
    layers = ((system_config_dir(env) / "config", system_config_dir(env)),
              (global_config_dir(env) / "config", global_config_dir(env)),
              (dvc / "config", dvc), (dvc / "config.local", dvc))
    merged: dict[str, dict[str, str]] = {}
    for file, base in layers:
        text = committed if committed is not None and file == dvc / "config" else None
        for section, values in _read_ini(file, text).items():
            target = merged.setdefault(section, {})
            for key, value in values.items():
                target[key] = _resolve_url(base, value) if key in ("url", "dir") else value
    cache = merged.get("cache", {}).get("dir")
    remotes = {}
    options = {}
    for section, values in merged.items():
        match = _REMOTE_SECTION.match(section)
        if match and "url" in values:
            remotes[match.group(1)] = values["url"]
            options[match.group(1)] = {k: v for k, v in values.items() if k != "url"}
    return DvcConfig(
        cache_dir=Path(cache) if cache else dvc / "cache",
        default_remote=merged.get("core", {}).get("remote") or None,
        remotes=remotes,
        options=options,
    )


def _resolve_url(base: Path, url: str) -> str:
    if url.startswith("file://"):
        return url[len("file://"):]
    if SCHEME.match(url) or url.startswith("remote://"):
        return url
    return str((base / os.path.expanduser(url)).resolve())


def is_local_url(url: str) -> bool:
    return SCHEME.match(url) is None


