"""A `./mlruns` file store, read from its files: `<experiment>/<run>/{meta.yaml,metrics,...}`."""
from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flowwarden.adapters.mlflow import (
    BRANCH_TAG,
    PARENT_TAG,
    Run,
    StoreUnreachable,
    as_float,
    make_run,
)

# The file store writes RunStatus as its protobuf number.
FILE_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}


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
                source = _meta(meta).get("source_run_id")
                return str(source) if source else None
        return None

    def _active(self, key: str | None, value: str, since_ms: int | None) -> list[Run]:
        """Active runs (in active experiments) whose tag `key` is `value`; all when no key."""
        self._require_root()
        runs = []
        for experiment in self._experiments(include_trash=False):
            if _meta(experiment / "meta.yaml").get("lifecycle_stage") == "deleted":
                continue
            for run_dir in subdirs(experiment):
                if key is None:
                    if not (run_dir / "meta.yaml").is_file():
                        continue  # models/, and artifact folders
                else:
                    tag = _read(run_dir / "tags" / key)
                    if tag is None or tag.strip() != value:
                        continue
                run = self._run(run_dir, deleted=False)
                if not run.deleted and (since_ms is None or (run.start_time or 0) >= since_ms):
                    runs.append(run)
        return sorted(runs, key=lambda r: r.start_time or 0)

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
        meta = _meta(run_dir / "meta.yaml")
        status = str(meta.get("status"))
        start = meta.get("start_time")
        latest = {key: _latest_metric(text) for key, text in _key_files(run_dir / "metrics")}
        return make_run(
            run_dir.name,
            FILE_STATUS.get(int(status), status) if status.isdigit() else status,
            "deleted" if deleted else str(meta.get("lifecycle_stage", "active")),
            int(start) if start is not None else None,
            {key: value for key, (value, _step) in latest.items()},
            dict(_key_files(run_dir / "params")),
            dict(_key_files(run_dir / "tags")),
            str(meta.get("experiment_id", run_dir.parent.name)),
            {key: step for key, (_value, step) in latest.items()},
        )


def _meta(path: Path) -> dict[str, Any]:
    # PyYAML is a declared dependency; only the file store pays for its import.
    import yaml

    text = _read(path)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    value = yaml.load(text, Loader=loader) if text else None
    return value if isinstance(value, dict) else {}


def _key_files(folder: Path) -> Iterator[tuple[str, str]]:
    """(key, content) for each file under `folder`; keys with '/' are nested folders."""
    if not folder.is_dir():
        return
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            yield path.relative_to(folder).as_posix(), _read(path) or ""


def _latest_metric(text: str) -> tuple[float, int]:
    # Each line is `timestamp value step`; MLflow's latest value is the highest step, then time.
    best: tuple[int, int, float] | None = None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        entry = (int(fields[2]) if len(fields) > 2 else 0, int(fields[0]), as_float(fields[1]))
        if best is None or entry[:2] >= best[:2]:
            best = entry
    return (best[2], best[0]) if best else (math.nan, 0)


def subdirs(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir()]
    except OSError:
        return []


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None
