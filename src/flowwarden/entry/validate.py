"""`flowwarden policy validate`: every error of a policy in one run, in line order, and
warnings about branch kinds that can never be used."""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from flowwarden.adapters.git import GitRepo
from flowwarden.core.errors import Exit, NotARepository, PolicyError, UsageError, format_path
from flowwarden.policy.load import POLICY_FILE, load_policy, load_policy_file
from flowwarden.policy.locate import check_worktree
from flowwarden.policy.model import BranchKind, Policy
from flowwarden.policy.patterns import ascii_only_escapes

_SAMPLES = 4  # names derived per pattern, one per alternative where it has several


class Finding(NamedTuple):
    """One error or warning, placed in the file when its position is known."""

    file: str
    line: int | None
    column: int | None
    path: tuple[object, ...]
    message: str

    def text(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}:{self.column}"
        key = format_path(self.path)
        return f"{where}: {key + ': ' if key else ''}{self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column,
                "path": format_path(self.path), "message": self.message}


def _finding(error: PolicyError) -> Finding:
    return Finding(error.file, error.line, error.column, error.path, error.message)


def validate_command(file: str | None, fmt: str, out: TextIO) -> int:
    path = _policy_path(file)
    errors, policy, doc = _errors(path)
    warnings = _warnings(policy, doc, path.name if path else "") if policy else []
    if fmt == "json":
        out.write(json.dumps({
            "file": policy.source if policy else str(path), "valid": not errors,
            "errors": [e.as_dict() for e in errors],
            "warnings": [w.as_dict() for w in warnings],
            "kinds": [k.name for k in policy.kinds] if policy else []}, indent=2) + "\n")
        return Exit.USAGE if errors else Exit.OK
    for error in errors:
        out.write(f"error: {error.text()}\n")
    for warning in warnings:
        out.write(f"warning: {warning.text()}\n")
    if errors:
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        out.write(f"flowwarden: {path} is not valid ({count}); fix them and run "
                  "`flowwarden policy validate` again\n")
        return Exit.USAGE
    assert policy is not None
    kinds = ", ".join(k.name for k in policy.kinds)
    out.write(f"ok: {policy.source} is valid ({len(policy.kinds)} branch kinds: {kinds})"
              + (f", {len(warnings)} warning(s)" if warnings else "") + "\n")
    return Exit.OK


def _policy_path(file: str | None) -> Path | None:
    """The file to validate; None: there is none, the preset applies."""
    if file is not None:
        if not Path(file).is_file():
            raise UsageError(f"{file}: no such policy file")
        return Path(file)
    try:
        root = GitRepo.discover(".").root or Path(".")
    except NotARepository:
        root = Path(".")
    check_worktree(root)  # a symlinked or misnamed policy file is an error, not the preset
    return root / POLICY_FILE if (root / POLICY_FILE).is_file() else None


def _errors(path: Path | None) -> tuple[list[Finding], Policy | None, Any]:
    """Every schema error of the file, then the first error the full load finds (extends,
    rule ids, branch kinds), in line order; the policy when there is none."""
    from flowwarden.policy import schema, yamlmarks

    if path is None:
        return [], load_policy(None), None
    found: list[Finding] = []
    doc = None
    try:
        doc = yamlmarks.parse(path.read_text(encoding="utf-8", errors="replace"), path.name)
        if isinstance(doc.data, dict):
            found += [_finding(e) for e in schema.errors(doc)] + _unknown_rules(doc)
    except PolicyError as error:
        return [_finding(error)], None, None
    policy = None
    try:
        policy = load_policy_file(path)
    except PolicyError as error:
        if _finding(error) not in found:
            found.append(_finding(error))
    found.sort(key=lambda f: (f.line or 0, f.column or 0))
    return found, (policy if not found else None), doc


def _unknown_rules(doc: Any) -> list[Finding]:
    """Rule ids that `rules:` and `waivers:` name but no rule has (worded as the loader
    words them, which stops at the first)."""
    from flowwarden.policy.schema import did_you_mean, known_rule_ids

    known = known_rule_ids()
    rules = doc.data.get("rules")
    named: list[tuple[tuple[object, ...], Any, bool]] = [
        (("rules", r), r, True) for r in (rules if isinstance(rules, dict) else ())]
    waivers = doc.data.get("waivers")
    named += [(("waivers", i, "rule"), w["rule"], False)
              for i, w in enumerate(waivers if isinstance(waivers, list) else ())
              if isinstance(w, dict) and isinstance(w.get("rule"), str)]
    return [_finding(doc.error(path, f"unknown rule id '{rule}'{did_you_mean(rule, known)}; "
                               "see `flowwarden rules`", prefer_key=is_key))
            for path, rule, is_key in named if rule not in known]


def _warnings(policy: Policy, doc: Any, file: str) -> list[Finding]:
    """Kinds no branch can be of (an earlier kind matches every name they were meant for)
    and kinds no branch can be created from. Detection is heuristic: names are derived from
    each pattern, one per alternative, and tried against the kinds before it."""
    def place(kind: str, message: str) -> Finding:
        at = ("branches", kind, "pattern")
        mark = doc.where(at) if doc is not None and kind in doc.data.get("branches", {}) \
            else None
        line, column = mark or (None, None)
        return Finding(file if mark else policy.source, line, column, at, message)

    found, dead = [], set()
    for i, kind in enumerate(policy.kinds):
        names = sample_names(kind)
        owners = {n: next((k.name for k in policy.kinds[:i] if k.matches(n)), None)
                  for n in names}
        if names and all(owners.values()):
            dead.add(kind.name)
            name, owner = next(iter(owners.items()))
            found.append(place(kind.name, f"kind '{kind.name}' can never match: its names "
                               f"(e.g. {name!r}) match kind '{owner}' first, and the first "
                               f"matching kind wins; move '{kind.name}' above '{owner}' or "
                               "narrow the earlier pattern"))
    for kind in policy.kinds:
        escapes = ascii_only_escapes(kind.pattern)
        if escapes:
            found.append(place(kind.name, f"kind '{kind.name}': {', '.join(escapes)} in its "
                               "pattern match ASCII only (patterns run on RE2, not Python's "
                               "re): \\d is [0-9] and \\w is [A-Za-z0-9_], so a name with "
                               "another script's digits or letters does not match; write the "
                               "characters you mean, e.g. [0-9]"))
        if kind.name not in dead and not _creatable(kind, policy, dead, set()):
            found.append(place(kind.name, f"no branch of kind '{kind.name}' can be created: "
                               f"it may only come from {', '.join(kind.origins)}, and no "
                               "branch of those kinds can exist or be created"))
    return sorted(found, key=lambda f: (f.line or 0, f.column or 0))


def _creatable(kind: BranchKind, policy: Policy, dead: set[str], seen: set[str]) -> bool:
    if not kind.origins or kind.protected:
        return True  # a root of the flow: made by hand, not branched
    seen = seen | {kind.name}
    for name in kind.origins:
        origin = policy.kind(name)
        if origin is not None and name not in dead and name not in seen \
                and _creatable(origin, policy, dead, seen):
            return True
    return False


def sample_names(kind: BranchKind) -> list[str]:
    """Branch names the kind's pattern was written for: one per alternative, each checked
    against the pattern itself (a name that does not match is dropped)."""
    parser: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11)
                                          else "sre_parse")
    try:
        tree = parser.parse(kind.pattern)
    except Exception:  # noqa: BLE001 - the pattern compiled; an odd one only loses samples
        return []
    names = {_generate(list(tree), k) for k in range(_SAMPLES)}
    return sorted(n for n in names if n and kind.matches(n))


def _generate(items: list[Any], choice: int) -> str:
    return "".join(_piece(str(op), value, choice) for op, value in items)


def _piece(op: str, value: Any, choice: int) -> str:
    if op == "LITERAL":
        return chr(value)
    if op == "NOT_LITERAL":
        return "a" if value != ord("a") else "b"
    if op == "ANY":
        return "x"
    if op == "IN":
        return _in_set(value)
    if op == "CATEGORY":
        return "0" if "DIGIT" in str(value) else "a"
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, sub = value
        return _generate(list(sub), choice) * (max(low, 1) if high else 0)
    if op in ("SUBPATTERN", "ATOMIC_GROUP"):
        return _generate(list(value[-1]), choice)
    if op == "BRANCH":
        alternatives = value[1]
        return _generate(list(alternatives[min(choice, len(alternatives) - 1)]), choice)
    return ""  # anchors and lookarounds match no character


def _in_set(items: list[Any]) -> str:
    if items and str(items[0][0]) == "NEGATE":
        return "#"
    op, value = items[0]
    if str(op) == "LITERAL":
        return chr(value)
    if str(op) == "RANGE":
        return chr(value[0])
    return "0" if "DIGIT" in str(value) else "a"
