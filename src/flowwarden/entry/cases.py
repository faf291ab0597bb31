"""The case file of `flowwarden test`: operations and the verdicts a policy must give them.

A case file is a YAML list; each case states one operation under `check:` and the verdict
under `expect:`, optionally with a `history:` to build first. Every malformed value is an
error with file:line:col, never a traceback (docs/authoring.md describes the format).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from flowwarden.core.errors import PolicyError, UsageError
from flowwarden.core.stages import Stage
from flowwarden.policy.schema import did_you_mean, known_rule_ids
from flowwarden.policy.yamlmarks import Located, parse

MAX_FILE_BYTES = 64 * 1024 * 1024  # a staged file the scratch repository writes for real
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*")
_UNITS = {None: 1, "B": 1, "KB": 1000, "KiB": 1024, "MB": 1000**2, "MiB": 1024**2,
          "GB": 1000**3, "GiB": 1024**3}
#: The stages each operation may be judged at; the first is the default.
STAGES = {
    "branch": (Stage.CHECK, Stage.CI),
    "merge": (Stage.CHECK, Stage.PRE_MERGE_COMMIT, Stage.CI),
    "commit": (Stage.PRE_COMMIT,),
    "push": (Stage.PRE_RECEIVE, Stage.CI),
}


class CaseFileError(UsageError):
    """A case file that cannot be run; str() is `file:line:col: key: what is wrong`."""


class Expect(NamedTuple):
    """The verdict a case states; None: not stated, not compared."""

    allowed: bool | None = None
    refused: tuple[str, ...] | None = None  # the rules that refuse, exactly
    warned: tuple[str, ...] | None = None  # the rules that only warn, exactly
    says: str | None = None  # text some violation's message contains


class Step(NamedTuple):
    """One `history:` step: `action` is branch, commit, merge or delete."""

    action: str
    name: str | None  # the branch (branch, delete, merge source) or the commit's label
    on: str | None = None  # commit: its branch; merge: the target; branch: the start point
    label: str | None = None  # merge: the label of the merge commit
    message: str | None = None
    files: tuple[tuple[str, int], ...] = ()
    line: int = 0


class Update(NamedTuple):
    branch: str
    old: str | None  # a label or branch of the history; None: the push creates it
    new: str | None  # None: the push deletes it


class Case(NamedTuple):
    line: int
    name: str
    kind: str  # branch, merge, commit or push
    stage: Stage
    subject: str  # branch name, merge source, commit branch
    target: str | None = None  # merge: into
    files: tuple[tuple[str, int], ...] = ()
    message: str | None = None
    updates: tuple[Update, ...] = ()
    history: tuple[Step, ...] = ()
    expect: Expect = Expect()


def load_cases(text: str, name: str) -> list[Case]:
    try:
        doc = parse(text, name)
        if not isinstance(doc.data, list) or not doc.data:
            raise doc.error((), "expected a non-empty list of cases, each with `check:` and "
                            "`expect:`")
        return [_case(_Node(doc, (i,)), item) for i, item in enumerate(doc.data)]
    except PolicyError as exc:
        raise CaseFileError(str(exc), "see docs/authoring.md for the case format") from None


class _Node:
    """A value's place in the case file, for errors."""

    def __init__(self, doc: Located, path: tuple[object, ...]) -> None:
        self.doc = doc
        self.path = path

    def at(self, *more: object) -> _Node:
        return _Node(self.doc, self.path + more)

    def fail(self, message: str, prefer_key: bool = False) -> PolicyError:
        return self.doc.error(self.path, message, prefer_key)

    @property
    def line(self) -> int:
        return (self.doc.where(self.path) or (1, 1))[0]

    def mapping(self, value: object, keys: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"expected a mapping with keys {', '.join(keys)}")
        for key in value:
            if key not in keys:
                raise self.at(key).fail(f"unknown key '{key}'; expected one of: "
                                        f"{', '.join(keys)}", prefer_key=True)
        return value

    def text(self, value: object) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail("expected a non-empty string")
        return value

    def optional_text(self, mapping: Mapping[str, Any], key: str) -> str | None:
        return None if mapping.get(key) is None else self.at(key).text(mapping[key])

    def rule_ids(self, value: object) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            raise self.fail("expected a rule id or a list of rule ids")
        known = known_rule_ids()
        for i, rule_id in enumerate(items):
            at = self.at(i) if isinstance(value, list) else self
            if at.text(rule_id) not in known:
                raise at.fail(f"unknown rule id '{rule_id}'{did_you_mean(rule_id, known)}; "
                              "see `flowwarden rules`")
        return tuple(sorted(set(items)))


_OPERATIONS = ("branch", "merge", "commit", "push")


def _case(node: _Node, item: object) -> Case:
    spec = node.mapping(item, ("name", "check", "expect", "history"))
    for key in ("check", "expect"):
        if key not in spec:
            raise node.fail(f"a case needs `{key}:`")
    check = node.at("check").mapping(
        spec["check"], (*_OPERATIONS, "into", "stage"))
    kinds = [k for k in _OPERATIONS if k in check]
    if len(kinds) != 1:
        raise node.at("check").fail("expected exactly one of: branch, merge (with into), "
                                    "commit, push")
    kind = kinds[0]
    at = node.at("check", kind)
    fields: dict[str, Any] = {"kind": kind, "line": node.line,
                              "stage": _stage(node.at("check"), check, kind)}
    if kind == "merge":
        if "into" not in check:
            raise at.fail("a merge needs `into: TARGET`")
        fields.update(subject=at.text(check[kind]),
                      target=node.at("check", "into").text(check["into"]))
    elif "into" in check:
        raise node.at("check", "into").fail("`into` goes with `merge`", prefer_key=True)
    elif kind == "branch":
        fields["subject"] = at.text(check[kind])
    elif kind == "commit":
        commit = at.mapping(check[kind], ("branch", "files", "message"))
        fields.update(subject=at.at("branch").text(commit.get("branch")),
                      files=_files(at.at("files"), commit.get("files", {})),
                      message=at.optional_text(commit, "message"))
    else:
        fields.update(updates=_updates(at, check[kind]), subject="push")
    history = spec.get("history", [])
    if not isinstance(history, list):
        raise node.at("history").fail("expected a list of steps")
    fields["history"] = tuple(_step(node.at("history", i), s) for i, s in enumerate(history))
    fields["expect"] = _expect(node.at("expect"), spec["expect"])
    fields["name"] = (node.at("name").text(spec["name"]) if "name" in spec
                      else describe(kind, fields))
    return Case(**fields)


def describe(kind: str, fields: Mapping[str, Any]) -> str:
    if kind == "merge":
        return f"merge {fields['subject']} into {fields['target']}"
    if kind == "push":
        return "push " + ", ".join(u.branch for u in fields["updates"])
    return f"{kind} on {fields['subject']}" if kind == "commit" else f"branch {fields['subject']}"


def _stage(node: _Node, check: Mapping[str, Any], kind: str) -> Stage:
    allowed = STAGES[kind]
    if "stage" not in check:
        return allowed[0]
    value = check["stage"]
    for stage in allowed:
        if value == stage.value:
            return stage
    raise node.at("stage").fail(f"a {kind} is judged at {', '.join(s.value for s in allowed)}; "
                                f"got {value!r}")


def _size(node: _Node, value: object) -> int:
    match = _SIZE.fullmatch(value) if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif match:
        size = int(float(match.group(1)) * _UNITS[match.group(2)])
    else:
        raise node.fail("expected a size: bytes, or a number with B, KB, KiB, MB, MiB, GB, GiB")
    if not 0 <= size <= MAX_FILE_BYTES:
        raise node.fail(f"expected a size from 0 to {MAX_FILE_BYTES} bytes (64 MiB)")
    return size


def _files(node: _Node, value: object) -> tuple[tuple[str, int], ...]:
    """`files: {path: size}`: the staged paths, written with that many bytes."""
    if not isinstance(value, dict):
        raise node.fail("expected a mapping of staged paths to sizes, e.g. {data/x.csv: 2 MiB}")
    out = []
    for path, size in value.items():
        parts = path.split("/")
        if not path or path.startswith("/") or ".." in parts or ".git" in parts or "" in parts:
            raise node.at(path).fail("expected a relative path inside the repository",
                                     prefer_key=True)
        out.append((path, _size(node.at(path), size)))
    return tuple(out)


def _updates(node: _Node, value: object) -> tuple[Update, ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for i, item in enumerate(items):
        at = node.at(i) if isinstance(value, list) else node
        spec = at.mapping(item, ("branch", "old", "new"))
        if "new" not in spec:
            raise at.fail("a ref update needs `new:` (a label or branch; null deletes)")
        out.append(Update(at.at("branch").text(spec.get("branch")),
                          at.optional_text(spec, "old"), at.optional_text(spec, "new")))
    return tuple(out)


# A step is named by its action; `branch` is also where a commit goes, so it comes last.
_STEP_KEYS = {"commit": ("commit", "branch", "message", "files"),
              "merge": ("merge", "into", "as", "message"), "delete": ("delete",),
              "branch": ("branch", "from")}


def _step(node: _Node, item: object) -> Step:
    action = next((a for a in _STEP_KEYS if isinstance(item, dict) and a in item), None)
    if action is None:
        raise node.fail("expected a step: {branch: NAME, from: REV}, {commit: LABEL, branch: "
                        "BRANCH}, {merge: SOURCE, into: TARGET, as: LABEL} or {delete: BRANCH}")
    spec = node.mapping(item, _STEP_KEYS[action])
    name = node.at(action).text(spec[action])
    if action == "delete":
        return Step(action, name, line=node.line)
    if action == "branch":
        return Step(action, name, node.optional_text(spec, "from"), line=node.line)
    on_key = "branch" if action == "commit" else "into"
    return Step(action, name, node.at(on_key).text(spec.get(on_key)),
                node.optional_text(spec, "as"), node.optional_text(spec, "message"),
                _files(node.at("files"), spec.get("files", {})), node.line)


def _expect(node: _Node, value: object) -> Expect:
    spec = node.mapping(value, ("allowed", "refused", "warned", "says"))
    if not spec:
        raise node.fail("expected at least one of: allowed, refused, warned, says")
    allowed = spec.get("allowed")
    if allowed is not None and not isinstance(allowed, bool):
        raise node.at("allowed").fail("expected true or false")
    refused = node.at("refused").rule_ids(spec["refused"]) if "refused" in spec else None
    if refused is not None and allowed is True and refused:
        raise node.at("allowed").fail("a case cannot be both allowed and refused")
    return Expect(allowed, refused,
                  node.at("warned").rule_ids(spec["warned"]) if "warned" in spec else None,
                  node.optional_text(spec, "says"))
