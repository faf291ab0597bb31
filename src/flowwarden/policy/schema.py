"""Schema validation with errors that point at the line and say what was expected."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowwarden.core.errors import PolicyError

if TYPE_CHECKING:
    from flowwarden.policy.yamlmarks import Located


def policies_dir() -> Path:
    """The shipped presets and schema: the installed package data, or the source tree's."""
    try:
        import importlib

        pkg = importlib.import_module("flowwarden.policies")
        for entry in getattr(pkg, "__path__", ()):
            if (Path(entry) / "schema.json").is_file():
                return Path(entry)
    except ImportError:
        pass
    return Path(__file__).resolve().parents[3] / "policies"


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((policies_dir() / "schema.json").read_text())
    return loaded


def known_rule_ids() -> list[str]:
    """The rule ids a policy may configure, as the schema lists them (a test keeps the list
    equal to the rule registry)."""
    ids: list[str] = schema()["$defs"]["ruleId"]["enum"]
    return sorted(ids)


def did_you_mean(word: str, choices: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _describe(error: Any, doc: Located) -> PolicyError:
    path = tuple(error.absolute_path)
    validator = error.validator
    if validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        bad = extra[0] if extra else "?"
        expected = f"expected one of: {', '.join(allowed)}" if allowed else "no other keys"
        return doc.error(path + (bad,), f"unknown key '{bad}'{did_you_mean(bad, allowed)}; "
                         f"{expected}", prefer_key=True)
    if validator == "enum":
        choices = ", ".join(map(str, error.validator_value))
        return doc.error(path, f"expected one of {choices}, got {error.instance!r}"
                         f"{_yaml_bool_hint(error.instance, error.validator_value)}")
    if validator == "type":
        return doc.error(path, f"expected {error.validator_value}, "
                         f"got {type(error.instance).__name__} {error.instance!r}")
    if validator == "propertyNames":
        return doc.error(path, f"invalid name {error.instance!r}: {error.message}")
    if validator == "const":
        return doc.error(path, f"expected {error.validator_value!r}, got {error.instance!r}")
    if validator == "pattern":
        described = str(error.schema.get("description", "")).rstrip(".")
        # "A threshold: ..." reads as "expected a threshold: ...", without the sentence's stop
        if described[1:2].islower():
            described = described[:1].lower() + described[1:]
        expected = described or f"a match for {error.validator_value}"
        return doc.error(path, f"expected {expected}, got {error.instance!r}")
    if validator == "oneOf":
        return doc.error(path, f"expected a string or a list of strings, got {error.instance!r}")
    return doc.error(path, error.message)


def _yaml_bool_hint(instance: object, choices: list[object]) -> str:
    """YAML 1.1 reads an unquoted off, on, yes or no as a boolean."""
    words = [c for c in choices if str(c).lower() in ("off", "on", "yes", "no")]
    if not isinstance(instance, bool) or not words:
        return ""
    return f" (YAML reads an unquoted {words[0]} as {str(instance).lower()}: quote it, " \
           f"\"{words[0]}\")"


def errors(doc: Located) -> list[PolicyError]:
    """Every schema violation, in document order."""
    import jsonschema  # only on a cache miss: it costs tens of milliseconds

    validator = jsonschema.Draft202012Validator(schema())

    def position(err: Any) -> tuple[int, int]:
        mark = doc.where(tuple(err.absolute_path))
        return mark or (0, 0)
    found = sorted(validator.iter_errors(doc.data),
                   key=lambda e: (position(e), -len(e.absolute_path)))
    return [_describe(e, doc) for e in found]


def validate(doc: Located) -> None:
    """Raise a PolicyError for the first schema violation, in document order."""
    found = errors(doc)
    if found:
        raise found[0]
