"""The effective policy, parsed into typed sections when it is loaded.

Every section is built here from the merged document, so a malformed value is a PolicyError
at load time (with file:line:col when the document's positions are known), and nothing
downstream reads the raw document.
"""
from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from flowwarden.adapters.checks import Check
from flowwarden.core.records import Severity
from flowwarden.policy import sections
from flowwarden.policy.data import DEFAULT_DATA, DataPolicy
from flowwarden.policy.patterns import Pattern, PatternError, compile_pattern
from flowwarden.policy.runs import RunSettings, parse_runs
from flowwarden.policy.schema import did_you_mean
from flowwarden.policy.sections import (
    CiSettings,
    KeyPath,
    MergeSettings,
    PolicyWaiver,
    RuleSettings,
    Where,
)

_KIND_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_NO_SETTINGS = RuleSettings()


class BranchKind(NamedTuple):
    """`branches.<name>`: which branch names are of this kind, and where they may go."""

    name: str
    pattern: str
    regex: Pattern
    protected: bool = False  # no direct commits, force pushes or deletion
    origins: tuple[str, ...] = ()  # `from:` kinds
    into: tuple[str, ...] = ()
    reach_before_delete: bool = False  # deleting one needs its tip in every `into` target
    merge_methods: tuple[str, ...] = ("merge",)  # how changes land on it: merge|squash|rebase
    frozen: bool = False  # no catch-up merges from its origins (a release after its cut)

    def matches(self, branch: str) -> bool:
        return self.regex.fullmatch(branch) is not None

    def tips_in(self, tips: Mapping[str, str]) -> dict[str, str]:
        """The entries of `tips` (branch name -> sha) whose branch is of this kind. Kept for
        the last few `tips`: a push of many refs asks it once per ref about the same branches,
        and matching them all each time made such a push cost refs x branches matches."""
        if type(tips) is MappingProxyType:  # read-only, the same object each time it is asked
            key: Hashable = (self.pattern, id(tips))
        else:
            key = (self.pattern, tuple(tips), tuple(tips.values()))
        kept = _TIPS_IN.get(key)
        if kept is None:
            if len(_TIPS_IN) >= 64:  # a bound: the names are the pusher's
                _TIPS_IN.clear()
            # `tips` is kept with the answer, so that its id names no other mapping meanwhile
            kept = _TIPS_IN[key] = (tips, {name: sha for name, sha in tips.items()
                                           if self.matches(name)})
        return dict(kept[1])


_TIPS_IN: dict[Hashable, tuple[Mapping[str, str], dict[str, str]]] = {}


def branch_kinds(section: Mapping[str, Any], at: Where) -> tuple[BranchKind, ...]:
    kinds = tuple(_kind(name, spec, at) for name, spec in section.items())
    names = [k.name for k in kinds]
    for kind in kinds:
        for key, refs in (("from", kind.origins), ("into", kind.into)):
            for i, ref in enumerate(refs):
                if ref not in names:
                    raise at.error(("branches", kind.name, key, i),
                                   f"unknown branch kind '{ref}'{did_you_mean(ref, names)}; "
                                   f"expected one of: {', '.join(names)}")
    return kinds


def _kind(name: str, spec: Mapping[str, Any], at: Where) -> BranchKind:
    path: KeyPath = ("branches", name)
    if not _KIND_NAME.fullmatch(name):
        raise at.error(path, f"invalid kind name {name!r}: expected lowercase letters, digits, "
                       "- and _, starting with a letter", prefer_key=True)
    if "pattern" not in spec:
        raise at.error(path, f"branch kind '{name}' needs a pattern "
                       "(a regular expression for its branch names)")
    pattern = str(spec["pattern"])
    try:
        regex = compile_pattern(pattern)
    except PatternError as exc:
        raise at.error(path + ("pattern",), str(exc)) from None
    return BranchKind(name, pattern, regex, **sections.given(spec, {
        "protected": ("protected", bool), "from": ("origins", tuple), "into": ("into", tuple),
        "reach_before_delete": ("reach_before_delete", bool),
        "merge_methods": ("merge_methods", tuple), "frozen": ("frozen", bool)}))


class Policy(NamedTuple):
    """A validated policy after `extends`, as typed sections.

    `document` is the merged YAML as data, for `policy show`; its `data:` section is written
    out with the defaults filled in."""

    document: Mapping[str, Any]
    source: str  # where it came from, for messages
    kinds: tuple[BranchKind, ...] = ()
    rules: Mapping[str, RuleSettings] = MappingProxyType({})
    checks: tuple[Check, ...] = ()
    waivers: tuple[PolicyWaiver, ...] = ()
    ci: CiSettings = CiSettings()
    data: DataPolicy = DEFAULT_DATA
    runs: RunSettings = RunSettings()
    merges: MergeSettings = MergeSettings()

    @classmethod
    def from_document(cls, document: Mapping[str, Any], source: str,
                      at: Where | None = None) -> Policy:
        """Build every section; `at` places errors (None: the document has no positions)."""
        at = at or Where(source)
        kinds = branch_kinds(document.get("branches", {}), at)
        kind_names = [k.name for k in kinds]

        def names_a_branch(target: str) -> bool:
            return any(k.matches(target) for k in kinds)

        data = DataPolicy.from_section(document.get("data") or {}, at)
        return cls(
            document={**document, "data": data.as_section()}, source=source, kinds=kinds,
            rules=sections.rule_settings(document.get("rules", {})),
            checks=sections.checks(document.get("checks", ()), names_a_branch, kind_names, at),
            waivers=sections.waivers(document.get("waivers", ()), at),
            ci=sections.ci_settings(document.get("ci", {})),
            data=data,
            runs=parse_runs(document.get("runs") or {}, at.error),
            merges=sections.merge_settings(document.get("merges", {})),
        )

    def kind(self, name: str) -> BranchKind | None:
        return next((k for k in self.kinds if k.name == name), None)

    def kind_of(self, branch: str | None) -> BranchKind | None:
        """The first kind whose pattern matches `branch` in full, in policy order."""
        if branch is None:
            return None
        return next((k for k in self.kinds if k.matches(branch)), None)

    @property
    def protected_kinds(self) -> tuple[BranchKind, ...]:
        return tuple(k for k in self.kinds if k.protected)

    def sources_for(self, target: BranchKind) -> tuple[BranchKind, ...]:
        """Kinds allowed to merge into `target`."""
        return tuple(k for k in self.kinds if target.name in k.into)

    def merge_allowed(self, source: BranchKind, target: BranchKind) -> bool:
        """`source` may merge into `target`: a listed target, or an unprotected branch catching
        up with one of its origins (develop into a feature) unless it is frozen."""
        if target.name in source.into:
            return True
        return not target.protected and not target.frozen and source.name in target.origins

    def accepts_any_unprotected(self, target: BranchKind) -> bool:
        """Every unprotected kind may merge into `target` (develop in Git Flow): which of them
        a merge came from cannot change the verdict."""
        return all(self.merge_allowed(k, target) for k in self.kinds if not k.protected)

    def accepted_sources(self, target: BranchKind) -> str:
        """The kinds that may merge into `target`, for messages ("release, hotfix")."""
        sources = [k.name for k in self.sources_for(target)]
        return ", ".join(sources) if sources else "no kind"

    def origin_kinds(self, kind: BranchKind) -> tuple[BranchKind, ...]:
        """The protected kinds `kind` may (transitively, through unprotected kinds) come from."""
        seen: set[str] = set()
        out: list[BranchKind] = []
        todo = list(kind.origins)
        while todo:
            name = todo.pop(0)
            if name in seen:
                continue
            seen.add(name)
            origin = self.kind(name)
            if origin is None:
                continue
            if origin.protected:
                out.append(origin)
            else:
                todo.extend(origin.origins)
        return tuple(out)

    def kinds_summary(self) -> str:
        """Every kind with its pattern, for messages."""
        return ", ".join(f"{k.name} ({k.pattern})" for k in self.kinds)

    def rule_settings(self, rule_id: str) -> RuleSettings:
        return self.rules.get(rule_id, _NO_SETTINGS)

    def severity(self, rule_id: str, default: Severity) -> Severity:
        """The policy's severity for `rule_id`, or the rule's own `default`."""
        return self.rule_settings(rule_id).severity or default

    def checks_for(self, target: str) -> tuple[Check, ...]:
        """The checks whose `before_merge_into` names `target` or its branch kind."""
        kind = self.kind_of(target)
        names = {target} | ({kind.name} if kind else set())
        return tuple(c for c in self.checks if names & set(c.targets))
