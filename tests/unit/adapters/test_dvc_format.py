"""DVC's file format as `adapters/dvc/format` checks it: what DVC 2 and 3 write passes, each
malformed shape is one problem with its line and what was expected, and parsing is bounded."""
from __future__ import annotations

import pytest

from flowwarden.adapters.dvc.format import check
from flowwarden.adapters.dvc.yamlload import MAX_DEPTH, UnreadableFile, parse_yaml

MD5 = "0123456789abcdef0123456789abcdef"

DVC3_ADD = f"""outs:
- md5: {MD5}
  size: 14
  hash: md5
  path: train.csv
"""
DVC3_DIR = f"""outs:
- md5: {MD5}.dir
  size: 2048
  nfiles: 3
  hash: md5
  path: images
"""
DVC2_LOCK = f"""schema: '2.0'
stages:
  train:
    cmd: python train.py
    deps:
    - path: data/raw.csv
      md5: {MD5}
      size: 8
    params:
      params.yaml:
        lr: 0.1
        classes:
          0: cat
          1: dog
    outs:
    - path: model.bin
      md5: {MD5}
      size: 8
"""
IMPORT = f"""md5: {MD5}
frozen: true
deps:
- path: data/raw.csv
  repo:
    url: https://example.com/acme/registry
    rev_lock: {MD5}abcd1234
outs:
- md5: {MD5}
  size: 8
  hash: md5
  path: raw.csv
"""
IMPORT_URL = f"""deps:
- path: s3://bucket/raw.csv
  etag: abc
- path: /mnt/shared/raw.csv
outs:
- md5: {MD5}
  hash: md5
  path: raw.csv
  push: false
  remote: archive
"""
IMPORT_DB = f"""frozen: true
deps:
- db:
    connection: warehouse
    query: select * from sales
outs:
- md5: {MD5}
  size: 8
  hash: md5
  path: sales.csv
"""
FOREACH_LOCK = f"""schema: '2.0'
stages:
  prep@eu:
    cmd: python prep.py eu
    outs:
    - path: ../out/eu.csv
      hash: md5
      md5: {MD5}
"""
FOREACH_YAML = """stages:
  prep:
    foreach: [eu, us]
    do:
      cmd: python prep.py ${item}
      wdir: src
      outs:
      - ../out/${item}.csv
"""


@pytest.mark.parametrize(("path", "text", "dvc_yaml"), [
    ("data/train.csv.dvc", DVC3_ADD, None),
    ("data/images.dvc", DVC3_DIR, None),
    ("dvc.lock", DVC2_LOCK, None),
    ("data/raw.csv.dvc", IMPORT, None),
    ("raw.csv.dvc", IMPORT_URL, None),
    ("sales.csv.dvc", IMPORT_DB, None),
    ("dvc.lock", FOREACH_LOCK, FOREACH_YAML),
    ("dvc.yaml", FOREACH_YAML, None),
    ("empty.dvc", "", None),
    ("dvc.lock", "", None),
])
def test_what_dvc_writes_passes(path: str, text: str, dvc_yaml: str | None) -> None:
    checked = check(path, text.encode(), dvc_yaml.encode() if dvc_yaml else None)
    assert checked.problems == ()


def test_a_valid_file_gives_its_outputs() -> None:
    [out] = check("data/train.csv.dvc", DVC3_ADD.encode()).outputs
    assert (out.path, out.md5, out.legacy) == ("data/train.csv", MD5, False)
    assert [o.legacy for o in check("dvc.lock", DVC2_LOCK.encode()).outputs] == [True]


@pytest.mark.parametrize(("path", "text", "line", "words"), [
    ("x.dvc", "outs: [5]\n", 1, "outs[0] is a whole number (5); expected a mapping"),
    ("x.dvc", "outs: 5\n", 1, "outs is a whole number (5); expected a list"),
    ("x.dvc", "outs: {path: x}\n", 1, "outs is a mapping; expected a list"),
    ("x.dvc", "deps: [x]\n", 1, "deps[0] is a string ('x'); expected a mapping"),
    ("x.dvc", "deps:\n- md5: " + MD5 + "\n", 2, "deps[0] has no path; expected a path key"),
    ("x.dvc", "outs:\n- path: ''\n", 2, "outs[0].path is empty; expected a path"),
    ("x.dvc", "outs:\n- path: 5\n", 2, "outs[0].path is a whole number (5); expected a string"),
    ("x.dvc", "outs:\n- path:\n", 2, "outs[0].path is empty; expected a string"),
    ("x.dvc", "outs:\n- md5: " + MD5 + "\n", 2, "outs[0] has no path; expected a path key"),
    ("x.dvc", "outs:\n- path: /etc\n", 2, "outs[0] path '/etc' is absolute, a URL or outside"),
    ("x.dvc", "outs:\n- path: s3://b/k\n", 2, "'s3://b/k' is absolute, a URL or outside"),
    ("x.dvc", "outs:\n- path: C:/data\n", 2, "'C:/data' is absolute, a URL or outside"),
    ("d/x.dvc", "outs:\n- path: ../../x\n", 2, "'../../x' is absolute, a URL or outside"),
    ("x.dvc", "outs:\n- path: x\n  md5: ABCDEF\n", 3,
     "outs[0].md5 is 'ABCDEF'; expected an md5 hash: 32 lowercase hex digits"),
    ("x.dvc", f"outs:\n- path: x\n  md5: {MD5}.zip\n", 3, "expected an md5 hash"),
    ("x.dvc", "outs:\n- path: x\n  size: -3\n", 3, "outs[0].size is -3; expected a number of 0"),
    ("x.dvc", "outs:\n- path: x\n  size: 1.5\n", 3, "outs[0].size is a number (1.5)"),
    ("x.dvc", "outs:\n- path: x\n  nfiles: true\n", 3, "outs[0].nfiles is true or false"),
    ("x.dvc", "outs:\n- path: x\n  files: [{md5: x}]\n", 3, "outs[0].files[0] has no relpath"),
    ("x.dvc", "outs:\n- path: x\n  cache: no-thanks\n", 3, "outs[0].cache is a string"),
    ("x.dvc", "[1, 2]\n", 1, "the top level is a list; expected a mapping or empty"),
    ("x.dvc", "just text\n", 1, "the top level is a string ('just text'); expected a mapping"),
    ("x.dvc", "out: []\n", 1, "has the key 'out' (did you mean outs?)"),
    ("x.dvc", "outs: [\n", 2, "is not the YAML DVC writes: while parsing a flow"),
    ("x.dvc", "---\na: 1\n---\nb: 2\n", 3, "expected a single document"),
    ("x.dvc", "a: !!python/object:os.system x\n", 1, "could not determine a constructor"),
    ("x.dvc", "a: " + "9" * 5000 + "\n", None, "a value YAML cannot read"),
    ("dvc.lock", "stages: {}\n", 1, "the top level has no schema; expected a schema key"),
    ("dvc.lock", "schema: 2.0\n", 1, "schema is 2.0; expected '2.0'"),
    ("dvc.lock", "schema: '2.0'\nstages: 5\n", 2, "stages is a whole number (5); expected a "
     "mapping"),
    ("dvc.lock", "schema: '2.0'\nstages: [a]\n", 2, "stages is a list; expected a mapping"),
    ("dvc.lock", "schema: '2.0'\nstages:\n  t: 5\n", 3, "stages.t is a whole number (5)"),
    ("dvc.lock", "schema: '2.0'\nstages:\n  t: {outs: []}\n", 3, "stages.t has no cmd"),
    ("dvc.lock", "schema: '2.0'\nstages:\n  t: {cmd: x, params: [a]}\n", 3,
     "stages.t.params is a list; expected a mapping"),
    ("dvc.lock", "schema: '2.0'\nstages:\n  t: {cmd: x, params: {p.yaml: 5}}\n", 3,
     "stages.t.params.p.yaml is a whole number (5); expected a mapping"),
    ("dvc.lock", "schema: '2.0'\nstages:\n  t: {cmd: x, outs: [{path: /etc}]}\n", 3,
     "stages.t.outs[0] path '/etc' is absolute"),
    ("dvc.lock", "schema: '2.0'\nstages:\n  t: {cmd: x, outs: [{path: ../x}]}\n", 3,
     "stages.t.outs[0] path '../x' is absolute, a URL or outside"),
    ("dvc.yaml", "stages: [a]\n", 1, "stages is a list; expected a mapping"),
    ("dvc.yaml", "stages:\n  t: {cmd: x, outs: 5}\n", 2, "stages.t.outs is a whole number"),
    ("dvc.yaml", "stages:\n  t: {cmd: x, wdir: /srv}\n", 2, "stages.t.wdir '/srv' is outside"),
    ("dvc.yaml", "stages:\n  t: {cmd: x, outs: [/etc/passwd]}\n", 2,
     "stages.t.outs[0] path '/etc/passwd' is absolute"),
])
def test_each_malformed_shape_is_one_located_problem(path: str, text: str, line: int | None,
                                                     words: str) -> None:
    checked = check(path, text.encode())
    assert checked.outputs == ()
    assert len(checked.problems) >= 1, checked
    problem = checked.problems[0]
    assert (problem.file, problem.line) == (path, line) or line is None, problem
    assert words in problem.message, problem


def test_a_lock_is_judged_with_its_dvc_yaml_whose_problems_name_it() -> None:
    lock = b"schema: '2.0'\nstages:\n  t: {cmd: x, outs: [{path: ../x}]}\n"
    # `../x` is inside the repository once the stage's wdir is `sub`
    assert check("dvc.lock", lock, b"stages:\n  t: {cmd: x, wdir: sub}\n").problems == ()
    [problem] = check("dvc.lock", b"schema: '2.0'\n", b"stages: 5\n").problems
    assert problem.file == "dvc.yaml" and "stages is a whole number" in problem.message


def test_problems_are_in_line_order_and_all_reported() -> None:
    text = b"outs:\n- path: x\n  size: -1\n- 7\n- path: ''\n"
    problems = check("x.dvc", text).problems
    assert [p.line for p in problems] == [3, 4, 5]


@pytest.mark.parametrize("text", [
    b"[" * 100_000 + b"]" * 100_000,  # the C parser's cost is quadratic; its composer crashes
    b"a: " + b"{b: " * 10_000 + b"1" + b"}" * 10_000,
    b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 200)),
])
def test_deep_nesting_is_refused_early(text: bytes) -> None:
    with pytest.raises(UnreadableFile, match=f"nested deeper than {MAX_DEPTH} levels"):
        parse_yaml(text)


def test_alias_loops_and_bombs_are_refused() -> None:
    with pytest.raises(UnreadableFile, match="contains it"):
        parse_yaml(b"a: &a [*a]\n")
    bomb = b"a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n".encode() for i in range(1, 10))
    with pytest.raises(UnreadableFile, match="aliases expand it by more than"):
        parse_yaml(bomb)
    assert parse_yaml(b"a: &a [1, 2]\nb: *a\n").data == {"a": [1, 2], "b": [1, 2]}
