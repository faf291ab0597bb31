"""Transitional: the rule moves here from rules/data.py."""
from __future__ import annotations

from flowwarden.rules.data import MissingCache

RULE = MissingCache()
