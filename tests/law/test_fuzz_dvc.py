"""Property-based fuzzing of `.dvc` files and `dvc.lock`s, which pushers write.

Whatever the text, checking it gives outputs or named problems, never another exception, and
its work is bounded: counted in the values parsing built and in how deep they nest, never
timed. Through the rule, any file is accepted or refused by dvc-file-format alone."""
from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowwarden.adapters.dvc.format import check
from flowwarden.adapters.dvc.paths import sibling
from flowwarden.adapters.dvc.yamlload import MAX_DEPTH, MAX_EXPANSION, UnreadableFile, parse_yaml
from flowwarden.adapters.git import GitRepo
from flowwarden.core.records import CommitAttempt
from flowwarden.core.stages import Stage
from flowwarden.policy.model import Policy
from flowwarden.rules import rules_for
from flowwarden.rules.base import Context
from fwkit import Repo

MD5 = "0123456789abcdef0123456789abcdef"
PIECES = st.sampled_from([
    "outs", "deps", "stages", "schema", "params", "cmd", "path", "md5", "size", "nfiles",
    "hash", "files", "relpath", "wdir", "do", "cache", "push", "remote", "'2.0'", "2.0",
    MD5, MD5 + ".dir", "md5", "/etc", "../..", "s3://b/k", "C:/x", "${item}", "-1", "0",
    "1e999", "9" * 40, "true", "~", "", ": ", ":", "\n", "  ", "    ", "- ", "[", "]", "{",
    "}", ", ", "&a ", "*a", "<<: ", "!!str ", "!!python/object ", "? ", "'", '"', "#", "|",
    "---\n", "\t", "\x00", "\u202e", "\r\n",
])
text = st.lists(PIECES, max_size=50).map("".join)
paths = st.sampled_from(["data/x.csv.dvc", "x.dvc", "dvc.lock", "sub/dvc.lock", "dvc.yaml"])


def measure(data: Any, depth: int = 0) -> tuple[int, int]:
    """(values, deepest level) of parsed data; parsing refuses anything deeper than MAX_DEPTH,
    so this recursion stays shallow."""
    if isinstance(data, dict):
        children = [measure(v, depth + 1) for v in data.values()]
    elif isinstance(data, list):
        children = [measure(v, depth + 1) for v in data]
    else:
        return 1, depth
    return 1 + sum(c[0] for c in children), max([depth, *(c[1] for c in children)])


def written(raw: bytes) -> int:
    """An upper bound on the values a text can hold without aliases: one per byte, plus one."""
    return len(raw) + 1


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paths, text, st.one_of(st.none(), text))
def test_any_dvc_file_is_outputs_or_named_problems(path: str, body: str,
                                                   dvc_yaml: str | None) -> None:
    raw = body.encode("utf-8", "surrogatepass")
    checked = check(path, raw, dvc_yaml.encode() if dvc_yaml is not None else None)
    assert not (checked.outputs and checked.problems)
    for problem in checked.problems:
        assert problem.file in (path, sibling(path, "dvc.yaml"))
        assert problem.message and (problem.line is None or problem.line >= 1)
    for out in checked.outputs:
        assert not out.path.startswith(("/", "../")) and out.path != ".."
    try:
        parsed = parse_yaml(raw)
    except UnreadableFile as error:
        assert any(str(error) in p.message for p in checked.problems)
        return
    values, depth = measure(parsed.data)
    assert values <= written(raw) + MAX_EXPANSION
    assert depth <= MAX_DEPTH


KEYS = st.sampled_from(["outs", "deps", "stages", "schema", "params", "cmd", "path", "md5",
                        "size", "nfiles", "hash", "files", "relpath", "wdir", "do", "cache",
                        "push", "remote", "train", "train@1", "params.yaml", "out", 5])
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-2, 2**70), st.floats(),
                   st.sampled_from(["2.0", MD5, MD5 + ".dir", "md5", "", "x", "/etc", "../..",
                                    "../x", "s3://b/k", "${item}", "a/b"]), st.text(max_size=8))
anything = st.recursive(LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)), max_leaves=30)
#: Entries near DVC's own shape, so that valid files (and their outputs) come up as well.
entries = st.fixed_dictionaries(
    {"path": st.sampled_from(["x", "a/b", "../x", "/etc", "", "${item}", "s3://b/k"])},
    optional={"md5": st.sampled_from([MD5, MD5 + ".dir", "xyz", ""]), "hash": st.just("md5"),
              "size": st.integers(-1, 10), "nfiles": st.integers(-1, 3),
              "cache": st.booleans(), "push": st.booleans(), "remote": st.just("r")})
stage = st.fixed_dictionaries({"cmd": st.just("python x.py")},
                              optional={"outs": st.lists(entries, max_size=3),
                                        "deps": st.lists(entries, max_size=3),
                                        "params": st.dictionaries(st.just("params.yaml"),
                                                                  anything, max_size=1)})
documents = st.one_of(
    anything,
    st.fixed_dictionaries({}, optional={"outs": st.lists(entries, max_size=3),
                                        "deps": st.lists(entries, max_size=2),
                                        "md5": st.just(MD5), "frozen": st.booleans()}),
    st.fixed_dictionaries({"schema": st.sampled_from(["2.0", "1.0"])},
                          optional={"stages": st.dictionaries(
                              st.sampled_from(["train", "prep@1", "s"]), stage, max_size=3)}),
    st.fixed_dictionaries({"stages": st.dictionaries(st.sampled_from(["train", "prep"]),
                                                     st.fixed_dictionaries({}, optional={
                                                         "wdir": st.sampled_from(
                                                             [".", "sub", "..", "/srv"]),
                                                         "outs": st.lists(st.sampled_from(
                                                             ["x", "../y", "/etc"]))}))}),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paths, documents, st.one_of(st.none(), documents))
def test_any_shaped_dvc_document_is_outputs_or_named_problems(path: str, doc: Any,
                                                              pipeline: Any) -> None:
    """Documents shaped like DVC's, with every key in any place and any value."""
    import yaml

    raw = yaml.safe_dump(doc).encode()
    dvc_yaml = yaml.safe_dump(pipeline).encode() if pipeline is not None else None
    checked = check(path, raw, dvc_yaml)
    assert not (checked.outputs and checked.problems)
    assert all(p.message for p in checked.problems)
    for out in checked.outputs:
        assert not out.path.startswith(("/", "../")) and out.path != ".."


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.booleans())
def test_alias_fan_out_is_bounded(levels: int, fan: int, merge: bool) -> None:
    """Any alias or merge bomb shape in a `.dvc` file: refused, or small enough to build."""
    if merge:
        lines = ["a0: &a0 {k: 1}"]
        lines += [f"a{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * fan)}], k{i}: 1}}"
                  for i in range(1, levels + 1)]
    else:
        lines = [f"a0: &a0 [{', '.join(['x'] * fan)}]"]
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]"
                  for i in range(1, levels + 1)]
    raw = ("outs:\n" + "".join(f"- {line}\n" for line in lines)).encode()
    try:
        parsed = parse_yaml(raw)
    except UnreadableFile:
        assert check("x.dvc", raw).problems
        return
    assert measure(parsed.data)[0] <= written(raw) + MAX_EXPANSION


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(paths, text)
def test_any_staged_dvc_file_is_accepted_or_refused_by_dvc_file_format(
        repo: Repo, path: str, body: str) -> None:
    """Every rule of the pre-commit stage, on a real index: only dvc-file-format speaks of
    the file, and nothing raises."""
    repo.write(path, body.encode("utf-8", "surrogatepass"))
    repo.git("add", path)
    ctx = Context(Policy.from_document({"data": {}}, "test"),
                  GitRepo.discover(repo.path, env=repo.env), Stage.PRE_COMMIT, repo.env)
    head = ctx.repo.head()
    event = CommitAttempt("feature/fuzz", head, ctx.repo.staged_changes(head))
    found = [v for rule in rules_for(Stage.PRE_COMMIT) if rule.id.startswith("dvc-")
             and rule.applies(event, ctx.stage) for v in rule.check(event, ctx)]
    about = [v for v in found if v.path in (path, sibling(path, "dvc.yaml"))]
    if any(v.rule == "dvc-file-format" for v in about):  # refused: no other rule reads it
        assert all(v.rule == "dvc-file-format" for v in about), about
    repo.git("rm", "-q", "--cached", "--", path)


