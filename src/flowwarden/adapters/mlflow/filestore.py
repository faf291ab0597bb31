"""A `./mlruns` file store, read from its files: `<experiment>/<run>/{meta.yaml,metrics,...}`.

Its files may be anything: each is read up to a size (MAX_FILE, metric lines MAX_LINE), a
meta.yaml with YAML anchors or aliases (which MLflow never writes: an alias bomb) is refused
before it is built, and the run is checked as a server's reply is (`replies`).
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from flowwarden.adapters.mlflow import (
    BRANCH_TAG,
    PARENT_TAG,
    RUN_ID,
    Run,
    StoreUnreachable,
    as_float,
)
from flowwarden.adapters.mlflow.replies import Malformed, clip, run_from_json

# The file store writes RunStatus as its protobuf number.
FILE_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
MAX_FILE = 1024**2  # bytes of a meta.yaml, param or tag file (MLflow writes a few KB)
MAX_LINE = 4096  # bytes of one metric line (`timestamp value step`)
T = TypeVar("T")


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
        return self._active(BRANCH_TAG, branch, since_ms)

    def recent_runs(self, since_ms: int | None) -> list[Run]:
        return self._active(None, "", since_ms)[-300:]

    def child_runs(self, parent: Run) -> list[Run]:
        return self._active(PARENT_TAG, parent.id, None)

    def model_run(self, model_id: str) -> str | None:
        self._require_root()
        for experiment in self._experiments(include_trash=False):
            meta = experiment / "models" / model_id / "meta.yaml"
            if meta.is_file():
                source = self._checked(_meta, meta).get("source_run_id")
                if source and not (isinstance(source, str) and RUN_ID.fullmatch(source)):
                    raise StoreUnreachable(f"cannot read {meta}: source_run_id "
                                           f"{clip(repr(source))} is not a run id")
                return source or None
        return None

    def _active(self, key: str | None, value: str, since_ms: int | None) -> list[Run]:
        """Active runs (in active experiments) whose tag `key` is `value`; all when no key."""
        self._require_root()
        runs = []
        for experiment in self._experiments(include_trash=False):
            if self._checked(_meta, experiment / "meta.yaml").get(
                    "lifecycle_stage") == "deleted":
                continue
            for run_dir in subdirs(experiment):
                if not RUN_ID.fullmatch(run_dir.name):
                    continue  # models/, and folders that are no run's
                if key is None:
                    if not (run_dir / "meta.yaml").is_file():
                        continue  # artifact folders
                else:
                    tag = self._checked(_read, run_dir / "tags" / key)
                    if tag is None or tag.strip() != value:
                        continue
                run = self._run(run_dir, deleted=False)
                if not run.deleted and (since_ms is None or (run.start_time or 0) >= since_ms):
                    runs.append(run)
        return sorted(runs, key=lambda r: r.start_time or 0)

    def _checked(self, read: Callable[[Path], T], path: Path) -> T:
        """`read(path)`, its Malformed as StoreUnreachable naming the file."""
        try:
            return read(path)
        except Malformed as error:
            raise StoreUnreachable(f"cannot read {path} of the file store {self.uri}: "
                                   f"{error}") from None

    def _require_root(self) -> None:
        if not self.root.is_dir():
            raise StoreUnreachable(f"no MLflow file store at {self.root} ({self.uri})")

    def _experiments(self, include_trash: bool) -> Iterator[Path]:
        for child in subdirs(self.root):
            if child.name == ".trash":
                if include_trash:
                    yield from subdirs(child)
            elif (child / "meta.yaml").is_file():
                yield child

    def _run(self, run_dir: Path, deleted: bool) -> Run:
        """The run in `run_dir`; StoreUnreachable, naming the folder, when its files are not
        what MLflow writes."""
        try:
            meta = _meta(run_dir / "meta.yaml")
            status = meta.get("status")
            metrics = [{"key": key, **_latest_metric(path)}
                       for key, path in _key_paths(run_dir / "metrics")]
            return run_from_json({
                "info": {"run_id": run_dir.name, "experiment_id": meta.get(
                    "experiment_id", run_dir.parent.name),
                         "status": FILE_STATUS.get(status, status)
                         if type(status) is int else status,
                         "lifecycle_stage": "deleted" if deleted else meta.get(
                             "lifecycle_stage", "active"),
                         "start_time": meta.get("start_time")},
                "data": {"metrics": metrics, "params": _pairs(run_dir / "params"),
                         "tags": _pairs(run_dir / "tags")}}, clip)
        except Malformed as error:
            raise StoreUnreachable(f"cannot read run {run_dir} of the file store {self.uri}: "
                                   f"{error}") from None


def _meta(path: Path) -> dict[str, Any]:
    """A meta.yaml's mapping ({} when absent or not a mapping); Malformed when it is too large,
    not YAML, or uses anchors and aliases."""
    # PyYAML is a declared dependency; only the file store pays for its import.
    import yaml

    text = _read(path)
    if not text:
        return {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        # Events first: an alias is refused before any node is built, so no bomb expands.
        if any(isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None)
               for e in yaml.parse(text, Loader=loader)):
            raise Malformed(f"{path.name} uses YAML anchors or aliases, which MLflow never "
                            "writes")
        value = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader either way
    except (yaml.YAMLError, ValueError, RecursionError) as error:
        # ValueError: an integer of more digits than Python converts; RecursionError: nesting
        first = (str(error).splitlines() or [type(error).__name__])[0]
        raise Malformed(f"{path.name} is not the YAML MLflow writes: {clip(first)}") from None
    return value if isinstance(value, dict) else {}


def _key_paths(folder: Path) -> Iterator[tuple[str, Path]]:
    """(key, file) for each file under `folder`; keys with '/' are nested folders."""
    if not folder.is_dir():
        return
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            yield path.relative_to(folder).as_posix(), path


def _pairs(folder: Path) -> list[dict[str, str]]:
    return [{"key": key, "value": _read(path) or ""} for key, path in _key_paths(folder)]


def _latest_metric(path: Path) -> dict[str, Any]:
    """The value and step of MLflow's latest entry: the highest step, then the latest time.

    Each line is `timestamp value step`, read one at a time (a metric may have millions)."""
    best: tuple[int, int, float] | None = None
    try:
        with path.open("rb") as lines:
            while line := lines.readline(MAX_LINE + 1):
                if len(line) > MAX_LINE:
                    raise Malformed(f"metric {path.name} has a line over {MAX_LINE} bytes")
                fields = line.split()
                if len(fields) < 2:
                    continue
                try:
                    entry = (int(fields[2]) if len(fields) > 2 else 0, int(fields[0]),
                             as_float(fields[1].decode("ascii")))
                except (ValueError, UnicodeDecodeError):
                    raise Malformed(f"metric {path.name}: {clip(repr(line))} is not "
                                    "`timestamp value step`") from None
                if best is None or entry[:2] >= best[:2]:
                    best = entry
    except OSError:
        return {"value": "NaN", "step": 0}
    if best is None:
        return {"value": "NaN", "step": 0}
    return {"value": "NaN" if math.isnan(best[2]) else best[2], "step": best[0]}


def subdirs(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir()]
    except OSError:
        return []


def _read(path: Path) -> str | None:
    """A small file's text (None when unreadable); Malformed over MAX_FILE bytes."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE + 1)
    except OSError:
        return None
    if len(data) > MAX_FILE:
        raise Malformed(f"{path.name} is larger than {MAX_FILE // 1024} KiB")
    return data.decode("utf-8", errors="replace")
