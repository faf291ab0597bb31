"""Reporters by name: each renders a `Report` for its medium, escaping untrusted text."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import NamedTuple

from flowwarden.core.records import Outcome


class Report(NamedTuple):
    """What a reporter renders: the outcome of one operation."""

    outcome: Outcome
    what: str  # the operation: "commit on develop", "merge of feature/x into develop"
    title: str = "flowwarden"  # a heading, where the medium has one
    local: bool = True  # a local hook's refusal says how to skip it deliberately
    color: bool = False


Reporter = Callable[[Report], str]

#: Each reporter's module; a module is imported when first used, so a hook loads text only.
REPORTER_BY_NAME: dict[str, str] = {
    name: f"flowwarden.report.{name}" for name in ("text", "json", "github", "gitlab", "markdown")
}


def reporter(name: str) -> Reporter:
    """The `report` function of the reporter called `name` (one of REPORTER_BY_NAME)."""
    render: Reporter = importlib.import_module(REPORTER_BY_NAME[name]).report
    return render
