"""The effective policy: branch kinds, per-rule settings, and the domain sections."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from flowwarden.core.errors import PolicyError
from flowwarden.core.records import Severity
from flowwarden.policy.data import DEFAULT_DATA, DataPolicy, Fail


class BranchKind(NamedTuple):
    name: str
    pattern: str
    regex: re.Pattern[str]
    protected: bool = False
    origins: tuple[str, ...] = ()  # `from:` kinds
    into: tuple[str, ...] = ()

    def matches(self, branch: str) -> bool:
        return self.regex.fullmatch(branch) is not None

    def tips_in(self, tips: Mapping[str, str]) -> dict[str, str]:
        """The entries of `tips` (branch name -> sha) whose branch is of this kind."""
        return {name: sha for name, sha in tips.items() if self.matches(name)}


class Policy(NamedTuple):
    """A validated policy after `extends`; `document` is the merged YAML as data, its `data:`
    section written out with the defaults filled in (what `policy show` prints)."""

    document: Mapping[str, Any]
    source: str  # where it came from, for messages
    kinds: tuple[BranchKind, ...] = ()
    data: DataPolicy = DEFAULT_DATA

    @classmethod
    def from_document(cls, document: Mapping[str, Any], source: str,
                      fail: Fail | None = None) -> Policy:
        """`fail` locates a malformed value in its file; without it, the key path alone."""
        fail = fail or (lambda path, message: PolicyError(source, None, None, path, message))
        kinds = tuple(
            BranchKind(
                name=name,
                pattern=spec.get("pattern", re.escape(name)),
                regex=re.compile(spec.get("pattern", re.escape(name))),
                protected=bool(spec.get("protected", False)),
                origins=tuple(spec.get("from", ())),
                into=tuple(spec.get("into", ())),
            )
            for name, spec in document.get("branches", {}).items()
        )
        data = DataPolicy.from_section(document.get("data") or {}, fail)
        document = {**document, "data": data.as_section()}
        return cls(document=document, source=source, kinds=kinds, data=data)

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
        up with one of its origins (develop into a feature)."""
        if target.name in source.into:
            return True
        return not target.protected and source.name in target.origins

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

    def rule_settings(self, rule_id: str) -> Mapping[str, Any]:
        settings: Mapping[str, Any] = self.document.get("rules", {}).get(rule_id, {})
        return settings

    def severity(self, rule_id: str, default: Severity) -> Severity:
        value = self.rule_settings(rule_id).get("severity")
        return Severity(value) if value else default

    def section(self, name: str) -> Mapping[str, Any]:
        """A domain section (`data`, `runs`, `ci`) as written, {} when absent."""
        value: Mapping[str, Any] = self.document.get(name) or {}
        return value
