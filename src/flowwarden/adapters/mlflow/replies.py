"""What a tracking server's JSON must be before flowwarden believes it: MLflow's REST shapes,
checked field by field. The sqlite and file stores put their rows and files in the same shape
and are checked by the same code.

The server is not trusted, so a reply of another shape is no run at all: `Malformed` (the
caller's "cannot check"), never a run with an empty status nor a crash. Checked by hand, not
with jsonschema: its import would cost more than a commit hook's whole REST round trip.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from flowwarden.adapters.mlflow import RUN_ID, Run, make_run

STATUSES = frozenset({"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"})
STAGES = frozenset({"active", "deleted"})
NUMBERS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
Said = Callable[[str], str]  # how server text is made fit for a message (http.Http.said)


class Malformed(ValueError):
    """A reply that is not what MLflow answers; the message says which field, briefly."""


def clip(text: str, limit: int = 200) -> str:
    """Store content fit for a message: at most `limit` characters."""
    return text[:limit] + ("..." if len(text) > limit else "")


def parse_json(raw: bytes) -> dict[str, Any] | None:
    """The reply's JSON object; None when it is not JSON or not an object."""
    try:
        value = json.loads(raw or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python recurses
        return None
    return value if isinstance(value, dict) else None


def run_from_json(run: Any, said: Said, asked: str | None = None,
                  scrub: Callable[[str], str] = str) -> Run:
    """A `Run` from MLflow's JSON (`{"info": ..., "data": ...}`); Malformed when any field
    has another type, the status is not MLflow's, or the run is not the one `asked` for.
    `scrub` is applied to every key and value (a server may echo the credentials it got)."""
    body = _object(run, "run", said)
    info = _object(body.get("info"), "run.info", said)
    data = _object(body.get("data", {}), "run.data", said)
    run_id = info.get("run_id", info.get("run_uuid"))
    if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
        raise Malformed(f"run id {said(repr(run_id))} is not 32 hex digits")
    if asked is not None and run_id != asked:
        raise Malformed(f"asked for run {asked}, it answered with another run, {run_id}")
    status, stage = info.get("status"), info.get("lifecycle_stage", "active")
    if not isinstance(status, str) or status not in STATUSES:
        raise Malformed(f"status {said(repr(status))} is not an MLflow run status")
    if not isinstance(stage, str) or stage not in STAGES:
        raise Malformed(f"lifecycle_stage {said(repr(stage))} is not active or deleted")
    metrics = [(scrub(_text(m, "key", said)), _number(m.get("value"), said),
                _integer(m.get("step", 0), "metric step", said))
               for m in _entries(data, "metrics", said)]
    experiment = info.get("experiment_id", "")
    if not isinstance(experiment, (str, int)) or isinstance(experiment, bool):
        raise Malformed(f"experiment_id {said(repr(experiment))} is not an id")
    return make_run(
        run_id, status, stage, _optional_integer(info.get("start_time"), said),
        {key: value for key, value, _step in metrics},
        _pairs(data, "params", said, scrub), _pairs(data, "tags", said, scrub),
        scrub(str(experiment)),
        {key: step for key, _value, step in metrics})


def _object(value: Any, what: str, said: Said) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{what} is {said(type(value).__name__)}, not an object")
    return value


def _entries(data: Mapping[str, Any], key: str, said: Said) -> list[dict[str, Any]]:
    entries = data.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise Malformed(f"run.data.{key} is not a list of objects")
    return entries


def _text(entry: Mapping[str, Any], field: str, said: Said) -> str:
    value = entry.get(field, "" if field == "value" else None)
    if not isinstance(value, str):
        raise Malformed(f"a {field} {said(repr(value))} is not text")
    return value


def _pairs(data: Mapping[str, Any], key: str, said: Said,
           scrub: Callable[[str], str]) -> dict[str, str]:
    return {scrub(_text(e, "key", said)): scrub(_text(e, "value", said))
            for e in _entries(data, key, said)}


def _number(value: Any, said: Said) -> float:
    """A metric value: a JSON number, or NaN and the infinities as MLflow writes them."""
    if isinstance(value, str) and value in NUMBERS:
        return NUMBERS[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Malformed(f"metric value {said(repr(value))} is not a number")
    try:
        return float(value)
    except OverflowError:  # an integer past float's range (1 followed by 400 zeros)
        raise Malformed(f"metric value {said(repr(value))} is out of range") from None


def _integer(value: Any, what: str, said: Said) -> int:
    """An int64 as JSON writes it: a number, or its digits (protobuf's JSON for int64)."""
    if isinstance(value, str) and value.lstrip("-").isdigit() and len(value) < 20 \
            and value.isascii():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**63:
        raise Malformed(f"{what} {said(repr(value))} is not an integer")
    return value


def _optional_integer(value: Any, said: Said) -> int | None:
    return None if value is None else _integer(value, "start_time", said)
