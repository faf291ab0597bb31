"""One module per rule, named by its id, and the registry: the mapping holds both ways, and the
schema's rule ids are the registry's (issue 8)."""
from __future__ import annotations

import importlib
import json

from srcmap import PACKAGE, ROOT

from flowwarden.rules import all_rules

#: Modules in rules/ that hold no rule: the base classes and helpers shared by several rules.
NOT_RULES = {"__init__", "base", "fixes", "cited_runs"}
SCHEMA = ROOT.parent.parent / "policies" / "schema.json"


def rule_module_names() -> list[str]:
    return sorted(p.stem for p in (ROOT / "rules").glob("*.py")
                  if p.stem not in NOT_RULES and not p.stem.startswith("_"))


def test_every_rule_module_exports_the_rule_named_by_its_file() -> None:
    wrong = []
    for name in rule_module_names():
        module = importlib.import_module(f"{PACKAGE}.rules.{name}")
        rule = getattr(module, "RULE", None)
        if rule is None:
            wrong.append(f"rules/{name}.py exports no RULE")
        elif rule.id != name.replace("_", "-"):
            wrong.append(f"rules/{name}.py exports RULE with id {rule.id!r}")
    assert not wrong, "\n".join(wrong)


def test_every_registered_rule_lives_in_the_module_named_by_its_id() -> None:
    wrong = []
    for rule in all_rules():
        expected = f"{PACKAGE}.rules.{rule.id.replace('-', '_')}"
        actual = type(rule).__module__
        if actual != expected:
            wrong.append(f"{rule.id}: class {type(rule).__name__} is defined in {actual}, "
                         f"expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_registry_holds_every_rule_module_once() -> None:
    ids = [rule.id for rule in all_rules()]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    assert not twice, f"registered twice: {twice}"
    modules = {name.replace("_", "-") for name in rule_module_names()}
    assert set(ids) == modules, (f"modules not registered: {sorted(modules - set(ids))}; "
                                 f"registered without a module: {sorted(set(ids) - modules)}")


def test_schema_rule_ids_are_the_registry_ids() -> None:
    enum = json.loads(SCHEMA.read_text())["$defs"]["ruleId"]["enum"]
    ids = [rule.id for rule in all_rules()]
    assert sorted(enum) == sorted(ids), (
        f"policies/schema.json $defs.ruleId.enum differs from the registry: only in the schema "
        f"{sorted(set(enum) - set(ids))}, only in the registry {sorted(set(ids) - set(enum))}")
    assert len(enum) == len(set(enum)), "a rule id is listed twice in the schema"
