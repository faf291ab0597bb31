"""The policy's small sections as typed records: rule settings, checks, waivers and ci.

A record's field defaults are the policy's defaults: a key the policy leaves out keeps the
record's value, and neither the schema nor the preset repeats it. Builders check what the
schema cannot say (a date that exists, a finite timeout, a target that names a branch) and
raise through a `Where`, which places the error in the file that wrote the value.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from flowwarden.adapters.checks import Check
from flowwarden.core.errors import PolicyError
from flowwarden.core.records import Severity
from flowwarden.policy.schema import did_you_mean

if TYPE_CHECKING:
    import datetime as dt

    from flowwarden.policy.yamlmarks import Located

KeyPath = tuple[object, ...]


class Where:
    """Places errors in a document without positions (a cache entry, a test's dict): they
    name the source only."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, path: KeyPath, message: str, prefer_key: bool = False) -> PolicyError:
        return PolicyError(self.source, None, None, path, message)


class Merged(Where):
    """The files a merged policy came from, the one whose values win first."""

    def __init__(self, files: Sequence[Located]) -> None:
        super().__init__(files[0].name)
        self.files = files

    def error(self, path: KeyPath, message: str, prefer_key: bool = False) -> PolicyError:
        """Points at the winning file that wrote `path`, or else its closest parent."""
        for size in range(len(path), -1, -1):
            prefix = path[:size]
            for file in self.files:
                if prefix in file.values or prefix in file.keys:
                    return file.error(path, message, prefer_key)
        return self.files[0].error(path, message, prefer_key)


MAX_CHECK_SECONDS = 86400.0  # a day: no test run is longer, and huge values overflow threading
_DATE = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"  # compiled on first use: few policies date waivers


class RuleSettings(NamedTuple):
    """`rules.<id>`: how one rule's findings count."""

    severity: Severity | None = None  # None: the rule's own default severity
    skippable: bool = False  # FLOWWARDEN_SKIP skips it in CI and pre-receive too
    waivable: bool = False  # a Flowwarden-Waive trailer or a `waivers:` entry may waive it


class PolicyWaiver(NamedTuple):
    """One `waivers:` entry."""

    rule: str
    reason: str
    expires: dt.date | None = None  # the last day it holds; None: no end
    subject: str | None = None  # None: every subject of `rule`


class CiSettings(NamedTuple):
    """`ci:`: settings for flowwarden ci, pre-receive and audit."""

    audit_since: str | None = None  # where an audit starts without --since; None: the root
    max_ref_updates: int = 5000  # a push of more refs is refused at pre-receive: push in batches


#: Where a verdict can rest on a merge subject alone, and the default there: the hooks, the
#: server and CI hold the refs of live branches, so a missing one is refused; an audit reads
#: history whose branches were deleted long ago, so a subject is enough there.
SUBJECT_ONLY_CONTEXTS = ("push", "receive", "ci", "audit")


class MergeSettings(NamedTuple):
    """`merges:`: what a merge's subject alone may prove, per context (True: accept)."""

    push: bool = False
    receive: bool = False
    ci: bool = False
    audit: bool = True

    def subject_only(self, context: str) -> bool:
        accepted: bool = getattr(self, context)
        return accepted


def merge_settings(section: Mapping[str, Any]) -> MergeSettings:
    value = section.get("subject_only")
    if value is None:
        return MergeSettings()
    if isinstance(value, str):
        return MergeSettings(*(value == "accept" for _ in SUBJECT_ONLY_CONTEXTS))
    return MergeSettings(**{k: v == "accept" for k, v in value.items()})


def given(spec: Mapping[str, Any], fields: Mapping[str, tuple[str, Callable[[Any], Any]]]
          ) -> dict[str, Any]:
    """The record fields `spec` sets (policy key -> (field, conversion)); the keys it leaves
    out are not returned, so the record's own defaults apply."""
    return {field: convert(spec[key]) for key, (field, convert) in fields.items() if key in spec}


def rule_settings(section: Mapping[str, Any]) -> Mapping[str, RuleSettings]:
    fields = {"severity": ("severity", Severity), "skippable": ("skippable", bool),
              "waivable": ("waivable", bool)}
    return MappingProxyType({rule: RuleSettings(**given(spec, fields))
                             for rule, spec in section.items()})


def checks(entries: Sequence[Mapping[str, Any]], branch_names: Callable[[str], bool],
           kind_names: Sequence[str], at: Where) -> tuple[Check, ...]:
    """`branch_names(target)`: whether a target is a branch name some kind matches."""
    out = []
    for i, entry in enumerate(entries):
        path: KeyPath = ("checks", i)
        for j, target in enumerate(entry["before_merge_into"]):
            if target not in kind_names and not branch_names(target):
                raise at.error(path + ("before_merge_into", j),
                               f"'{target}' is neither a branch kind nor a branch name of one"
                               f"{did_you_mean(target, list(kind_names))}; expected a kind "
                               f"({', '.join(kind_names)}) or a branch such as develop")
        out.append(Check(str(entry["name"]), _strings(entry["run"]),
                         _strings(entry["before_merge_into"]),
                         **given(entry, {"timeout": ("timeout", _seconds(at, path))})))
    return tuple(out)


def _strings(values: Iterable[object]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


def _seconds(at: Where, path: KeyPath) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) \
                and math.isfinite(value) and 0 < value <= MAX_CHECK_SECONDS:
            return float(value)
        raise at.error(path + ("timeout",), f"expected a number of seconds above 0 and at most "
                       f"{MAX_CHECK_SECONDS:g} (a day), got {value!r}")
    return convert


def waivers(entries: Sequence[Mapping[str, Any]], at: Where) -> tuple[PolicyWaiver, ...]:
    out = []
    for i, entry in enumerate(entries):
        path: KeyPath = ("waivers", i)
        reason = str(entry["reason"])
        if not reason.strip():
            raise at.error(path + ("reason",), f"expected a reason (some words saying why), "
                           f"got {reason!r}")
        out.append(PolicyWaiver(str(entry["rule"]), reason, **given(entry, {
            "expires": ("expires", _date(at, path + ("expires",))),
            "subject": ("subject", str)})))
    return tuple(out)


def _date(at: Where, path: KeyPath) -> Callable[[Any], dt.date]:
    return lambda value: iso_date(value, at, path)


def iso_date(value: object, at: Where, path: KeyPath) -> dt.date:
    """A date written as YYYY-MM-DD that exists on the calendar."""
    import datetime as dt  # only for a policy with dated waivers: hooks load this module

    match = re.fullmatch(_DATE, value) if isinstance(value, str) else None
    why = ""
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError as exc:
            why = f" ({exc})"
    raise at.error(path, f"expected an ISO date YYYY-MM-DD that exists, quoted, such as "
                   f"\"2027-01-31\"; got {value!r}{why}")


def ci_settings(section: Mapping[str, Any]) -> CiSettings:
    return CiSettings(**given(section, {"audit_since": ("audit_since", str),
                                        "max_ref_updates": ("max_ref_updates", int)}))
