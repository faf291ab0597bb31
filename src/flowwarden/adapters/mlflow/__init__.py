"""The MLflow adapter: read runs from a tracking store without importing mlflow.

`import mlflow` costs seconds, so each store is read with the standard library: the REST API
over a socket (`rest`, `wire`), MLflow's sqlite database read-only (`sqlite`), and a
`./mlruns` file store's files directly (`filestore`). `store` picks one for a URI.
This module holds what they share: the run record, the store protocol, and redaction.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

RUN_ID = re.compile(r"[0-9a-f]{32}")
DEFAULT_TIMEOUT = 3.0
BRANCH_TAG = "mlflow.source.git.branch"
COMMIT_TAG = "mlflow.source.git.commit"


class StoreUnreachable(Exception):
    """The tracking store could not answer; the message is a one-line reason."""


class Run(NamedTuple):
    """One MLflow run as flowwarden needs it; metrics are each key's latest value."""

    id: str
    status: str  # RUNNING, SCHEDULED, FINISHED, FAILED, KILLED
    lifecycle_stage: str  # active or deleted
    start_time: int | None  # milliseconds since the epoch
    metrics: Mapping[str, float]
    params: Mapping[str, str]
    tags: Mapping[str, str]

    @property
    def deleted(self) -> bool:
        return self.lifecycle_stage == "deleted"

    @property
    def name(self) -> str:
        return self.tags.get("mlflow.runName", "")


def make_run(run_id: str, status: str, lifecycle_stage: str, start_time: int | None,
             metrics: Mapping[str, float], params: Mapping[str, str],
             tags: Mapping[str, str]) -> Run:
    """A Run whose mappings are read-only views, so the record stays immutable."""
    return Run(run_id, status, lifecycle_stage, start_time, MappingProxyType(dict(metrics)),
               MappingProxyType(dict(params)), MappingProxyType(dict(tags)))


class TrackingStore(Protocol):
    """What the rules ask of a tracking store."""

    uri: str

    def get_run(self, run_id: str) -> Run | None:
        """The run, or None when the store has no run with this id."""

    def search_runs(self, branch: str, since_ms: int | None) -> list[Run]:
        """Active runs tagged with git `branch`, started at or after `since_ms`, oldest first."""


def redact(uri: str) -> str:
    """`uri` without a password, for messages."""
    from urllib.parse import urlsplit, urlunsplit  # the policy layer imports this module

    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def as_float(value: Any) -> float:
    """A metric value; the REST API writes NaN and infinities as strings, files as text."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
