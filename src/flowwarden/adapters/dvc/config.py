"""What flowwarden needs from DVC's configuration: the cache directory and the remotes."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from flowwarden.adapters.dvc.paths import SCHEME

_REMOTE_SECTION = re.compile(r"""^'?remote\s+"([^"]+)"'?$""")


class DvcConfig(NamedTuple):
    """`.dvc/config` and `.dvc/config.local`, merged."""

    cache_dir: Path
    default_remote: str | None
    remotes: Mapping[str, str]  # name -> url, local paths made absolute


def _read_ini(path: Path) -> dict[str, dict[str, str]]:
    # DVC writes configobj-style INI; configparser reads it once interpolation is off and
    # keys keep their case. Sections look like `['remote "storage"']`.
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    try:
        text = path.read_text()
    except OSError:
        return {}
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error:
        return {}
    return {section: {k: v.strip().strip("'\"") for k, v in parser.items(section)}
            for section in parser.sections()}


def read_config(dvc: Path) -> DvcConfig:
    """`.dvc/config` overlaid with `.dvc/config.local`; relative paths are relative to `.dvc/`."""
    merged: dict[str, dict[str, str]] = {}
    for layer in (_read_ini(dvc / "config"), _read_ini(dvc / "config.local")):
        for section, values in layer.items():
            merged.setdefault(section.strip("'"), {}).update(values)
    cache = merged.get("cache", {}).get("dir")
    remotes = {}
    for section, values in merged.items():
        match = _REMOTE_SECTION.match(section)
        if match and "url" in values:
            remotes[match.group(1)] = _resolve_url(dvc, values["url"])
    return DvcConfig(
        cache_dir=(dvc / cache).resolve() if cache else dvc / "cache",
        default_remote=merged.get("core", {}).get("remote") or None,
        remotes=remotes,
    )


def _resolve_url(dvc: Path, url: str) -> str:
    if url.startswith("file://"):
        return url[len("file://"):]
    if SCHEME.match(url):
        return url
    return str((dvc / os.path.expanduser(url)).resolve())


def is_local_url(url: str) -> bool:
    return SCHEME.match(url) is None
