"""Whether a `.dvc` file, `dvc.lock` or `dvc.yaml` has DVC's format, and where it does not.

The schemas follow DVC 3's own (`dvc/schema.py`, `dvc/output.py`), for the keys flowwarden
reads and DVC 2's lock layout (no `hash: md5`); jsonschema is imported on the first check.
"""
from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from itertools import islice
from typing import Any, NamedTuple

from flowwarden.adapters.dvc.files import Output, definition, outputs_of, parse_pipeline
from flowwarden.adapters.dvc.paths import is_lock, repo_path, sibling
from flowwarden.adapters.dvc.yamlload import UnreadableFile, parse_yaml

_MD5 = {"type": ["string", "null"], "pattern": r"^([0-9a-f]{32}(\.dir)?)?$",
        "description": "an md5 hash: 32 lowercase hex digits, with .dir for a directory"}
_COUNT = {"type": "integer", "minimum": 0}
_PATH = {"type": "string", "minLength": 1}
_FILES = {"type": "array", "items": {"type": "object", "required": ["relpath"],
                                     "properties": {"relpath": _PATH, "md5": _MD5,
                                                    "size": _COUNT}}}
_ENTRY = {"path": _PATH, "md5": _MD5, "size": _COUNT, "nfiles": _COUNT,
          "isexec": {"type": "boolean"}, "hash": {"type": "string"}, "files": _FILES}
_OUT = {"type": "object", "required": ["path"],
        "properties": {**_ENTRY, "cache": {"type": "boolean"}, "push": {"type": "boolean"},
                       "remote": {"type": "string"}, "persist": {"type": "boolean"}}}
_DEP = {"type": "object", "properties": {**_ENTRY, "repo": {"type": "object"},
                                         "db": {"type": "object"}},
        # `dvc import-db` records a query, not a path
        "if": {"not": {"required": ["db"]}}, "then": {"required": ["path"]}}
_CMD = {"type": ["string", "array"]}

DVCFILE: dict[str, Any] = {
    "type": ["object", "null"],
    "properties": {
        "outs": {"type": ["array", "null"], "items": _OUT},
        "deps": {"type": ["array", "null"], "items": _DEP},
        "md5": _MD5, "wdir": {"type": ["string", "null"]}, "cmd": _CMD,
        "frozen": {"type": "boolean"}, "locked": {"type": "boolean"},
        "always_changed": {"type": "boolean"}, "desc": {"type": "string"}, "meta": {},
    },
    "additionalProperties": False,
}
LOCK: dict[str, Any] = {
    "type": ["object", "null"],
    "required": ["schema"],
    "properties": {
        "schema": {"const": "2.0"},
        "datasets": {},
        "stages": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["cmd"], "additionalProperties": False,
            "properties": {
                "cmd": _CMD,
                "deps": {"type": "array", "items": _DEP},
                "outs": {"type": "array", "items": _OUT},
                "params": {"type": "object", "additionalProperties": {"type": "object"}},
            }}},
    },
    "additionalProperties": False,
}
_PIPELINE_OUTS = {"type": "array", "items": {"type": ["string", "object"]}}
_PIPELINE_DEFINITION: dict[str, Any] = {"type": "object", "properties": {
    "wdir": {"type": "string"}, "outs": _PIPELINE_OUTS, "metrics": _PIPELINE_OUTS,
    "plots": _PIPELINE_OUTS}}
_PIPELINE_STAGE = {**_PIPELINE_DEFINITION, "properties": {
    **_PIPELINE_DEFINITION["properties"], "do": _PIPELINE_DEFINITION}}
#: `dvc.yaml` only as far as flowwarden reads it: stage working dirs and outputs.
PIPELINE: dict[str, Any] = {
    "type": ["object", "null"],
    "properties": {"stages": {"type": "object", "additionalProperties": _PIPELINE_STAGE}},
}

_SCHEMAS = {"dvcfile": DVCFILE, "lock": LOCK, "pipeline": PIPELINE}
_TYPES = {"object": "a mapping", "array": "a list", "string": "a string", "null": "empty",
          "integer": "a whole number", "boolean": "true or false", "number": "a number"}


class Problem(NamedTuple):
    """One way a DVC file departs from DVC's format."""

    file: str  # repo-relative
    line: int | None  # 1-based
    message: str  # what is there and what was expected


class Checked(NamedTuple):
    """A DVC file's cached outputs when it has DVC's format, else what is wrong with it."""

    outputs: tuple[Output, ...]
    problems: tuple[Problem, ...]


def is_pipeline(path: str) -> bool:
    return posixpath.basename(path) == "dvc.yaml"


def check(path: str, text: bytes, dvc_yaml: bytes | None = None) -> Checked:
    """Check a `.dvc` file, `dvc.lock` (with the `dvc.yaml` beside it, whose problems are
    reported under its own path) or `dvc.yaml`, and read its outputs when it passes."""
    if is_pipeline(path):
        return Checked((), tuple(_problems(path, text, "pipeline")))
    if not is_lock(path):
        problems = _problems(path, text, "dvcfile")
    else:
        pipeline = _problems(sibling(path, "dvc.yaml"), dvc_yaml, "pipeline") if dvc_yaml else []
        wdirs = {} if pipeline or not dvc_yaml else parse_pipeline(dvc_yaml, path).wdirs
        problems = _problems(path, text, "lock", wdirs) + pipeline
    if problems:
        return Checked((), tuple(problems))
    try:
        return Checked(outputs_of(path, text, dvc_yaml), ())
    except UnreadableFile as error:
        return Checked((), (Problem(path, error.line, str(error)),))


#: Bytes of a `.dvc` file: DVC writes a few hundred (dvc.lock and dvc.yaml may reach
#: yamlload.MAX_BYTES, a pipeline of thousands of stages).
MAX_DVCFILE_BYTES = 1024 * 1024
#: Problems reported per file; the rest are counted in one more line.
MAX_PROBLEMS = 20


def _problems(path: str, text: bytes, kind: str,
              wdirs: Mapping[str, str] | None = None) -> list[Problem]:
    if kind == "dvcfile" and len(text) > MAX_DVCFILE_BYTES:
        return [Problem(path, None, f"is {len(text):,} bytes; expected a .dvc file of at most "
                                    f"{MAX_DVCFILE_BYTES:,} bytes (DVC writes a few hundred)")]
    try:
        parsed = parse_yaml(text)
    except UnreadableFile as error:
        return [Problem(path, error.line, f"is not the YAML DVC writes: {error}")]
    errors = _schema_errors(parsed.data, kind)
    found = [Problem(path, parsed.line(where), message)
             for where, message in islice(errors, MAX_PROBLEMS)]
    if not found and isinstance(parsed.data, dict):
        errors = _path_errors(path, parsed.data, kind, wdirs or {})
        found = [Problem(path, parsed.line(where), message)
                 for where, message in islice(errors, MAX_PROBLEMS)]
    more = sum(1 for _ in errors)
    found.sort(key=lambda p: p.line or 0)
    if more:
        found.append(Problem(path, None, f"and {more:,} more problems"))
    return found


@cache
def _validator(kind: str) -> Any:
    import jsonschema  # only when a DVC file is checked: it costs tens of milliseconds

    return jsonschema.Draft202012Validator(_SCHEMAS[kind])


def _schema_errors(data: Any, kind: str) -> Iterator[tuple[tuple[Any, ...], str]]:
    for error in _validator(kind).iter_errors(data):
        where = tuple(error.absolute_path)
        yield where, f"{_name(where)} {_describe(error)}"


def _describe(error: Any) -> str:
    value, rule, expected = error.instance, error.validator, error.validator_value
    if rule == "type":
        wanted = [expected] if isinstance(expected, str) else expected
        described = error.schema.get("description") or " or ".join(_TYPES[t] for t in wanted)
        return f"is {_shown(value)}; expected {described}"
    if rule == "required":
        missing = next((k for k in expected if k not in value), expected[0])
        return f"has no {missing}; expected a {missing} key"
    if rule == "additionalProperties":
        import difflib

        known = sorted(error.schema.get("properties", {}))
        extra = [str(k) for k in value if k not in known] or ["?"]
        close = difflib.get_close_matches(extra[0], known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"has the key {extra[0]!r:.40}{hint}; expected only {', '.join(known)}"
    if rule == "pattern":
        return f"is {value!r:.60}; expected {error.schema['description']}"
    if rule == "minLength":
        return "is empty; expected a path"
    if rule == "minimum":
        return f"is {value}; expected a number of 0 or more"
    if rule == "const":
        return f"is {value!r:.40}; expected {expected!r} (the layout DVC 2 and 3 write)"
    return str(error.message)[:200]


def _shown(value: Any) -> str:
    if value is None:
        return "empty"
    kind = next((v for k, v in _TYPES.items() if _is(value, k)), type(value).__name__)
    return f"{kind} ({value!r:.40})" if not isinstance(value, (dict, list)) else kind


def _is(value: Any, kind: str) -> bool:
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "number": float}
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, types.get(kind, type(None)))


def _name(where: Sequence[Any]) -> str:
    """A key path as DVC's docs write it: `stages.train.outs[0].path`."""
    name = ""
    for part in where:
        name += f"[{part}]" if isinstance(part, int) else f"{'.' if name else ''}{part}"
    return name or "the top level"


def _path_errors(path: str, data: Any, kind: str,
                 wdirs: Mapping[str, str]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Outputs and stage working dirs must stay inside the repository: DVC 3 has no external
    outputs, and a path outside would send cache lookups outside too. `wdirs`: a lock's
    stage working dirs, from its `dvc.yaml`."""
    folder = posixpath.dirname(path)
    places: list[tuple[tuple[Any, ...], str, Any]] = []
    if kind == "dvcfile":  # DVC resolves a .dvc file's outs from its `wdir` too
        wdir = data.get("wdir") or "."
        if not _inside(folder, wdir, kind):
            yield ("wdir",), f"wdir {wdir!r:.60} is outside the repository"
            return
        places.append((("outs",), posixpath.join(folder, wdir), data.get("outs")))
    for name, stage in (data.get("stages") or {}).items():
        stage = definition(stage)
        wdir = stage.get("wdir") if kind == "pipeline" else wdirs.get(str(name).split("@")[0])
        wdir = wdir or "."
        if not _inside(folder, wdir, kind):
            yield ("stages", name, "wdir"), (f"stages.{name}.wdir {wdir!r:.60} is outside "
                                             "the repository; expected a folder inside it")
            continue
        places += [(("stages", name, key), posixpath.join(folder, wdir), stage.get(key))
                   for key in ("outs", "metrics", "plots")]
    for where, base, entries in places:
        for index, entry in enumerate(entries or ()):
            out = entry if isinstance(entry, str) else (
                entry.get("path") if kind != "pipeline" else next(iter(entry), ""))
            if isinstance(out, str) and isinstance(entry, dict) and _inside(base, out, kind):
                yield from _relpath_errors((*where, index), entry.get("files"))
            if isinstance(out, str) and not _inside(base, out, kind):
                yield (*where, index), (
                    f"{_name((*where, index))} path {out!r:.60} is absolute, a URL or outside "
                    "the repository; expected a path relative to "
                    f"{'the .dvc file' if kind == 'dvcfile' else 'its stage wdir'}, "
                    "inside the repository")


def _inside(folder: str, path: str, kind: str = "pipeline") -> bool:
    """`path`, written in `folder`, stays inside the repository (`${...}`: dvc.yaml fills it;
    `.dvc` files and dvc.lock are never interpolated). A backslash is refused: DVC writes
    posix paths, and Windows reads `..\\` as a parent."""
    if "\\" in path:
        return False
    if "${" in path and kind == "pipeline":
        return True
    return repo_path(posixpath.join(folder, "x"), path) is not None


def _relpath_errors(where: tuple[Any, ...], files: Any
                    ) -> Iterator[tuple[tuple[Any, ...], str]]:
    """A directory output's `files` (DVC 2's inline listing) stay inside the directory."""
    for index, entry in enumerate(files if isinstance(files, list) else ()):
        rel = entry.get("relpath") if isinstance(entry, dict) else None
        if isinstance(rel, str) and (not _inside("d", rel, "lock") or
                                     posixpath.normpath(rel).split("/")[0] in ("..", ".")):
            yield (*where, "files", index), (f"{_name((*where, 'files', index))}.relpath "
                                             f"{rel!r:.60} leaves its directory")
