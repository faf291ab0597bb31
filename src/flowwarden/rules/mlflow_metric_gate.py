"""Transitional: the rule moves here from rules/runs.py."""
from __future__ import annotations

from flowwarden.rules.runs import MlflowMetricGate

RULE = MlflowMetricGate()
