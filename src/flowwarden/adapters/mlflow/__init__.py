"""The MLflow adapter: read runs from a tracking store without importing mlflow.

`import mlflow` costs seconds, so each store is read directly: the REST API with urllib3
(`rest`, `http`; self-hosted, DagsHub, Databricks), MLflow's sqlite database read-only
(`sqlite`), and a `./mlruns` file store's files (`filestore`). `store` picks one for a URI
the way MLflow 3 does (`locate`). This module holds what they share: the run record, the
store protocol, and redaction.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

RUN_ID = re.compile(r"[0-9a-f]{32}")
#: An MLflow 3 logged model (`mlflow.<flavor>.log_model`): `m-` and 32 hex digits.
MODEL_ID = re.compile(r"m-[0-9a-f]{32}")
DEFAULT_TIMEOUT = 3.0
BRANCH_TAG = "mlflow.source.git.branch"
COMMIT_TAG = "mlflow.source.git.commit"
PARENT_TAG = "mlflow.parentRunId"


class StoreUnreachable(Exception):
    """The tracking store could not answer; the message is a one-line reason."""


class Run(NamedTuple):
    """One MLflow run as flowwarden needs it; metrics are each key's latest value.

    MLflow's latest value is the one at the highest step (then the latest time): `steps`
    says which step each metric's value was logged at.
    """

    id: str
    status: str  # RUNNING, SCHEDULED, FINISHED, FAILED, KILLED
    lifecycle_stage: str  # active or deleted
    start_time: int | None  # milliseconds since the epoch
    metrics: Mapping[str, float]
    params: Mapping[str, str]
    tags: Mapping[str, str]
    experiment_id: str = ""
    steps: Mapping[str, int] = MappingProxyType({})

    @property
    def deleted(self) -> bool:
        return self.lifecycle_stage == "deleted"

    @property
    def name(self) -> str:
        return self.tags.get("mlflow.runName", "")

    @property
    def parent(self) -> str | None:
        """The sweep's parent run, for a child run (Optuna, Hyperopt, autologging trials)."""
        return self.tags.get(PARENT_TAG) or None

    @property
    def branch(self) -> str | None:
        return self.tags.get(BRANCH_TAG) or None


def make_run(run_id: str, status: str, lifecycle_stage: str, start_time: int | None,
             metrics: Mapping[str, float], params: Mapping[str, str],
             tags: Mapping[str, str], experiment_id: str = "",
             steps: Mapping[str, int] | None = None) -> Run:
    """A Run whose mappings are read-only views, so the record stays immutable."""
    return Run(run_id, status, lifecycle_stage, start_time, MappingProxyType(dict(metrics)),
               MappingProxyType(dict(params)), MappingProxyType(dict(tags)), experiment_id,
               MappingProxyType(dict(steps or {})))


class TrackingStore(Protocol):
    """What the rules ask of a tracking store."""

    uri: str

    def get_run(self, run_id: str) -> Run | None:
        """The run, or None when the store has no run with this id."""

    def search_runs(self, branch: str, since_ms: int | None) -> list[Run]:
        """Active runs tagged with git `branch`, started at or after `since_ms`, oldest first."""

    def recent_runs(self, since_ms: int | None) -> list[Run]:
        """Active runs started at or after `since_ms`, whatever their tags, oldest first.

        Bounded (a few hundred): the offer explains runs it leaves out, untagged ones too.
        """

    def child_runs(self, parent: Run) -> list[Run]:
        """Active runs whose `mlflow.parentRunId` is `parent` (a sweep's trials)."""

    def model_run(self, model_id: str) -> str | None:
        """The source run of an MLflow 3 logged model; None when the store has no such model."""


def as_float(value: Any) -> float:
    """A metric value; the REST API writes NaN and infinities as strings, files as text."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
