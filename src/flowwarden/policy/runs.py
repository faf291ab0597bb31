"""The policy's `runs:` section: which commits cite MLflow runs, and what a run must show
before its branch merges.

Every default of the section lives here. The schema checks the section's shape; `parse_runs`
turns it into typed settings once, when the policy is loaded.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from flowwarden.adapters.mlflow import DEFAULT_TIMEOUT
from flowwarden.core.errors import PolicyError
from flowwarden.core.stages import Stage

#: Builds the error for a malformed value at a key path (located in its file when known).
Fail = Callable[[tuple[object, ...], str], PolicyError]

# Compiled on first use (re caches it): most policies gate nothing, and hooks start often.
GATE = (r"\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
        r"(?:[eE][-+]?[0-9]+)?)\s*")

#: Which `on_unreachable` entry applies at each stage (others: `ci`).
CONTEXT_OF_STAGE = MappingProxyType({
    Stage.COMMIT_MSG: "commit", Stage.PREPARE_COMMIT_MSG: "commit",
    Stage.PRE_MERGE_COMMIT: "merge", Stage.PRE_COMMIT: "merge",
    Stage.PRE_PUSH: "push", Stage.PRE_RECEIVE: "push",
    Stage.CI: "ci", Stage.CHECK: "ci", Stage.AUDIT: "ci",
})


class Gate(NamedTuple):
    """One metric threshold, `val_accuracy: ">= 0.90"`."""

    metric: str
    op: str
    threshold: float
    text: str  # the threshold as written, for messages

    def passes(self, value: float | None) -> bool:
        if value is None or math.isnan(value):
            return False
        return {
            ">=": value >= self.threshold, ">": value > self.threshold,
            "<=": value <= self.threshold, "<": value < self.threshold,
            "==": value == self.threshold, "!=": value != self.threshold,
        }[self.op]


class ParamGate(NamedTuple):
    """One required param: present (`op` None), equal to a value, or a numeric threshold.

    `lr: "<= 0.01"` compares numbers; `lr: 0.001` or `lr: "1e-3"` equals numerically when
    both sides are numbers (MLflow stores every param as a string), else as text.
    """

    key: str
    op: str | None
    value: str | None
    text: str  # the requirement, for messages: "present", "= adam", "<= 0.01"

    def passes(self, actual: str | None) -> bool:
        if actual is None:
            return False
        if self.op is None or self.value is None:
            return True
        have, want = _number(actual), _number(self.value)
        if self.op == "==" and (have is None or want is None):
            return actual.strip() == self.value.strip()
        if have is None or want is None:
            return False
        return Gate(self.key, self.op, want, self.text).passes(have)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) else value


class RunSettings(NamedTuple):
    """The `runs:` section with its defaults filled in; the defaults are these."""

    kinds: tuple[str, ...] = ("experiment",)  # `branches:`
    trailer: str = "MLflow-Run-Id"
    require: str = "every-commit"  # or one-per-branch
    exempt: frozenset[str] = frozenset({"merge", "fixup"})
    verify: bool = True
    statuses: tuple[str, ...] = ("FINISHED",)
    on_unreachable: Mapping[str, str] = MappingProxyType({
        "commit": "warn", "merge": "block", "push": "block", "ci": "block"})
    gate_into: tuple[str, ...] = ("develop",)
    gates: tuple[Gate, ...] = ()  # `metrics:`
    params: tuple[ParamGate, ...] = ()
    tags: Mapping[str, str | None] = MappingProxyType({})
    tracking_uri: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    #: prepare-commit-msg: `editor` writes offered runs into the message only when an editor
    #: opens (no `-m`/`-F`), else lists them on stderr; `always` and `never` as they say.
    offer: str = "editor"

    @property
    def has_gate(self) -> bool:
        return bool(self.gates or self.params or self.tags)

    def unreachable_mode(self, stage: Stage) -> tuple[str, str]:
        """(the `on_unreachable` context for `stage`, its mode: warn or block)."""
        context = CONTEXT_OF_STAGE.get(stage, "ci")
        return context, self.on_unreachable.get(context, "block")

    def gate_text(self) -> str:
        """Every requirement of the gate, for messages."""
        parts = [f"{g.metric} {g.text}" for g in self.gates]
        parts += [f"param {p.key}" + ("" if p.op is None else f" {p.text}")
                  for p in self.params]
        parts += [f"tag {k}" + (f" = {v}" if v is not None else "") for k, v in self.tags.items()]
        return ", ".join(parts)


def parse_runs(section: Mapping[str, Any], fail: Fail) -> RunSettings:
    """The typed section; values the schema already checked are only converted."""
    base = RunSettings()
    metrics: Mapping[str, Any] = section.get("metrics") or {}
    return RunSettings(
        kinds=tuple(section.get("branches", base.kinds)),
        trailer=str(section.get("trailer", base.trailer)),
        require=str(section.get("require", base.require)),
        exempt=frozenset(section.get("exempt", base.exempt)),
        verify=bool(section.get("verify", base.verify)),
        statuses=tuple(str(s).upper() for s in section.get("statuses", base.statuses)),
        on_unreachable=MappingProxyType(
            {**base.on_unreachable, **(section.get("on_unreachable") or {})}),
        gate_into=tuple(section.get("gate_into", base.gate_into)),
        gates=tuple(parse_gate(str(k), v, fail) for k, v in metrics.items()),
        params=tuple(_param_gates(section.get("params") or {}, fail)),
        tags=_required(section.get("tags") or {}),
        tracking_uri=section.get("tracking_uri") or None,
        timeout=float(section.get("timeout", base.timeout)),
        offer=str(section.get("offer", base.offer)),
    )


def parse_gate(metric: str, expression: object, fail: Fail) -> Gate:
    match = re.fullmatch(GATE, expression) if isinstance(expression, str) else None
    if match is None:
        raise fail(("runs", "metrics", metric),
                   f"{expression!r} is not a threshold; expected an operator "
                   "(>=, >, <=, <, ==, !=) and a number, e.g. \">= 0.90\"")
    return Gate(metric, match[1], float(match[2]), f"{match[1]} {match[2]}")


def _param_gates(value: Mapping[str, Any] | Iterable[str], fail: Fail) -> Iterator[ParamGate]:
    """`params:` as a list (present), or a mapping to a value, a number or a threshold."""
    if not isinstance(value, Mapping):
        yield from (ParamGate(str(k), None, None, "present") for k in value)
        return
    for key, wanted in value.items():
        if wanted is None:
            yield ParamGate(str(key), None, None, "present")
            continue
        text = str(wanted)  # True -> "True": what mlflow.log_param stores for a bool
        match = re.fullmatch(GATE, text) if isinstance(wanted, str) else None
        if match is not None:
            yield ParamGate(str(key), match[1], match[2], f"{match[1]} {match[2]}")
        elif text.lstrip()[:1] in ("<", ">", "!") or text.lstrip().startswith("=="):
            raise fail(("runs", "params", key),
                       f"{wanted!r} is not a threshold; expected an operator and a number, "
                       "e.g. \"<= 0.01\" (or a value the param must equal)")
        else:
            yield ParamGate(str(key), "==", text, f"= {text}")


def _required(value: Mapping[str, Any] | Iterable[str]) -> Mapping[str, str | None]:
    """A list names keys that must be present; a mapping also fixes their values."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): None if v is None else str(v)
                                 for k, v in value.items()})
    return MappingProxyType({str(k): None for k in value})
