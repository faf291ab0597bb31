"""Property tests: whatever a user or git feeds in, flowwarden answers 0, 1 or 2 and never
shows a traceback. The CLI runs in-process (`flowwarden.entry.cli.main`) to keep this fast."""
from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from corekit import TRACEBACK, add_bare_remote, branch_with_commit, quiet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowwarden.entry import cli
from fwkit import Repo, clean_env, make_repo

PROPERTY = settings(max_examples=int(os.environ.get("FW_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


@dataclass(frozen=True)
class Answer:
    code: int
    text: str


@contextmanager
def process_state(cwd: Path, env: Mapping[str, str], stdin: bytes) -> Iterator[io.StringIO]:
    """cwd, environment and standard streams as git would give them to a hook."""
    saved = (os.getcwd(), dict(os.environ), sys.stdin, sys.stdout, sys.stderr)
    out = io.StringIO()
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8", errors="surrogateescape")
    sys.stdout = sys.stderr = out
    try:
        yield out
    finally:
        os.chdir(saved[0])
        os.environ.clear()
        os.environ.update(saved[1])
        sys.stdin, sys.stdout, sys.stderr = saved[2], saved[3], saved[4]


def fw(argv: Sequence[str], cwd: Path, env: Mapping[str, str], stdin: bytes = b"") -> Answer:
    with process_state(cwd, env, stdin) as captured:
        try:
            code = cli.main(list(argv))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
        text = captured.getvalue()
    return Answer(int(code or 0), text)


def assert_sane(answer: Answer, allowed: frozenset[int] = frozenset({0, 1, 2})) -> None:
    assert answer.code in allowed, f"exit {answer.code}:\n{answer.text}"
    assert TRACEBACK not in answer.text, answer.text
    assert "internal error" not in answer.text.lower(), answer.text


@dataclass(frozen=True)
class World:
    local: Repo
    server: Repo
    env: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, fw_bin: Path) -> World:
    root = tmp_path_factory.mktemp("props")
    env = clean_env(fw_bin, root / "home")
    local = make_repo(root / "local", env)
    server = add_bare_remote(local, root / "server.git")
    branch_with_commit(local, "feature/x", "develop")
    # the server holds feature/x's objects without a branch, as in pre-receive's quarantine
    quiet(local, "push", "-q", "--no-verify", "origin", "feature/x:refs/incoming/x")
    quiet(local, "switch", "-q", "develop")
    return World(local, server, env)


# A command line cannot carry NUL (argv entries are C strings), so names never hold one.
NAMES = st.one_of(
    st.text(max_size=40),
    st.builds(lambda kind, rest: f"{kind}/{rest}",
              st.sampled_from(["feature", "hotfix", "release", "experiment", "refs/heads",
                               "origin/feature", "main", ""]),
              st.text(max_size=20)),
    st.sampled_from(["main", "master", "develop", "HEAD", "-", "--", "@{-1}", "feature/x",
                     "release/1.0.0", "..", "a..b", "x.lock", "/", "feature//x"]),
).map(lambda name: name.replace("\0", ""))


@given(name=NAMES)
@PROPERTY
def test_check_branch_never_crashes(world: World, name: str) -> None:
    assert_sane(fw(["check", "--branch", name], world.local.path, world.env))


@given(source=NAMES, target=NAMES)
@PROPERTY
def test_check_merge_never_crashes(world: World, source: str, target: str) -> None:
    assert_sane(fw(["check", "--merge", source, "--into", target], world.local.path, world.env))


MESSAGE = st.one_of(
    st.text(max_size=200),
    st.builds(lambda src, tgt: f"Merge branch '{src}' into {tgt}", NAMES, NAMES),
    st.builds(lambda n, src: f"Merge pull request #{n} from {src}", st.integers(), NAMES),
    st.builds(lambda src, tgt: f"Merge branch '{src}' into '{tgt}'", NAMES, NAMES),
    st.builds(lambda src: f"Merge remote-tracking branch '{src}'", NAMES),
).map(lambda text: text.replace("\0", ""))


@given(message=MESSAGE, merge=st.booleans())
@PROPERTY
def test_pushed_commit_messages_never_crash(world: World, message: str, merge: bool) -> None:
    """A commit with an arbitrary message (a merge or not) pushed onto develop and main."""
    repo = world.local
    develop = repo.sha("develop")
    parents = ["-p", develop] + (["-p", repo.sha("feature/x")] if merge else [])
    tree = repo.sha("develop^{tree}")
    sha = repo.git("commit-tree", tree, *parents, stdin=message).out.strip()
    for branch in ("develop", "main"):
        old = repo.sha(branch)
        line = f"refs/heads/{branch} {sha} refs/heads/{branch} {old}\n"
        answer = fw(["hook", "pre-push", "origin", world.server.path.as_uri()], repo.path,
                    world.env, line.encode())
        assert_sane(answer)


@given(message=MESSAGE)
@PROPERTY
def test_commit_msg_hook_never_crashes(world: World, message: str, tmp_path: Path) -> None:
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_text(message, encoding="utf-8", errors="surrogateescape")
    assert_sane(fw(["hook", "commit-msg", str(path)], world.local.path, world.env))
    assert_sane(fw(["hook", "prepare-commit-msg", str(path), "message"], world.local.path,
                   world.env))


# Objects git names in these lines exist (git received or has them), except the remote's
# old tip at pre-push, which a stale clone may never have fetched: "@x" becomes branch x's sha.
MALFORMED_SHA = st.text("0123456789abcdefg", max_size=41).filter(lambda t: len(t) != 40)
SHA = st.one_of(st.sampled_from(["0" * 40, "@main", "@develop", "@feature/x"]), MALFORMED_SHA)
REMOTE_SHA = st.one_of(SHA, st.just("f" * 40), st.text("0123456789abcdef", min_size=40,
                                                        max_size=40))
REF = st.one_of(NAMES.map(lambda n: f"refs/heads/{n}"), NAMES, st.just("(delete)"))
SEP = st.sampled_from([" ", "  ", "\t", ""])
JUNK = st.text(max_size=120).map(lambda t: t.replace("\n", " "))
PUSH_LINES = st.lists(st.one_of(
    JUNK, st.builds(lambda a, s, b, c, d: f"{a}{s}{b}{s}{c}{s}{d}", REF, SEP, SHA, REF,
                    REMOTE_SHA)), max_size=5).map("\n".join)
RECEIVE_LINES = st.lists(st.one_of(
    JUNK, st.builds(lambda a, s, b, c: f"{a}{s}{b}{s}{c}", SHA, SEP, SHA, REF)),
    max_size=5).map("\n".join)


def with_shas(repo: Repo, text: str) -> str:
    for branch in ("feature/x", "develop", "main"):
        text = text.replace(f"@{branch}", repo.sha(branch))
    return text


@given(stdin=PUSH_LINES, real=st.booleans())
@PROPERTY
def test_pre_push_stdin_never_crashes(world: World, stdin: str, real: bool) -> None:
    if real:  # mix in one well-formed update so the engine gets past parsing
        stdin = f"refs/heads/feature/x @feature/x refs/heads/feature/x {'0' * 40}\n{stdin}"
    answer = fw(["hook", "pre-push", "origin", world.server.path.as_uri()], world.local.path,
                world.env, with_shas(world.local, stdin).encode("utf-8", "surrogateescape"))
    assert_sane(answer)


@given(stdin=RECEIVE_LINES)
@PROPERTY
def test_pre_receive_stdin_never_crashes(world: World, stdin: str) -> None:
    answer = fw(["hook", "pre-receive"], world.server.path, world.env,
                with_shas(world.local, stdin).encode("utf-8", "surrogateescape"))
    assert_sane(answer)


KEYS = st.sampled_from(["extends", "branches", "rules", "pattern", "protected", "from", "into",
                        "severity", "version", "main", "develop", "feature", "release",
                        "hotfix", "merge-target", "branch-name", "data", "runs", "ci",
                        "checks", "waivers", "description"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=20), st.sampled_from(["gitflow-ml", "error", "warning",
                                                           "off", "[a-z", "feature/.*",
                                                           "../x.yaml", "develop"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.one_of(KEYS, st.text(max_size=10)), inner, max_size=4)), max_leaves=12)
DOCUMENTS = st.one_of(
    st.dictionaries(KEYS, VALUES, max_size=5).map(lambda d: yaml.safe_dump(d)),
    st.text(max_size=200),
    st.builds(lambda kind, spec: yaml.safe_dump({"extends": "gitflow-ml",
                                                 "branches": {kind: spec}}),
              st.one_of(KEYS, st.text(max_size=10)),
              st.dictionaries(KEYS, VALUES, max_size=4)),
)


@given(document=DOCUMENTS)
@PROPERTY
def test_policy_validate_never_crashes(world: World, document: str) -> None:
    policy = world.local.path / ".flowwarden.yaml"
    policy.write_text(document, encoding="utf-8", errors="surrogateescape")
    try:
        validated = fw(["policy", "validate"], world.local.path, world.env)
        assert_sane(validated, frozenset({0, 2}))
        hooked = fw(["check", "--branch", "feature/y"], world.local.path, world.env)
        assert_sane(hooked)
        if validated.code == 2:
            assert hooked.code == 2, "a hook accepted a policy that validate refused"
    finally:
        policy.unlink()


def test_control_character_in_policy_is_a_policy_error(world: World) -> None:
    """Found by the property above: PyYAML's reader refuses it before parsing starts."""
    policy = world.local.path / ".flowwarden.yaml"
    policy.write_text("extends: gitflow-ml\x1f\n")
    try:
        answer = fw(["policy", "validate"], world.local.path, world.env)
    finally:
        policy.unlink()
    assert answer.code == 2, answer.text
    assert ".flowwarden.yaml:1:" in answer.text


ENV_TEXT = st.text(max_size=60).map(lambda t: t.replace("\0", ""))
ARGS = st.lists(ENV_TEXT, max_size=4)


@given(typed=ENV_TEXT, action=ENV_TEXT, real=st.booleans())
@PROPERTY
def test_pre_merge_commit_environment_never_crashes(world: World, typed: str, action: str,
                                                   real: bool) -> None:
    """GITHEAD_<sha> holds the name as typed; GIT_REFLOG_ACTION what git was asked to do."""
    sha = world.local.sha("feature/x") if real else "f" * 40
    env = {**world.env, f"GITHEAD_{sha}": typed, "GIT_REFLOG_ACTION": action}
    assert_sane(fw(["hook", "pre-merge-commit"], world.local.path, env))
    assert_sane(fw(["hook", "auto"], world.local.path, env))


@given(args=ARGS)
@PROPERTY
def test_hook_arguments_never_crash(world: World, args: list[str]) -> None:
    for stage in ("post-checkout", "commit-msg", "prepare-commit-msg", "pre-commit", "pre-push"):
        assert_sane(fw(["hook", stage, *args], world.local.path, world.env))


FRAMEWORK_VARS = st.dictionaries(
    st.sampled_from(["PRE_COMMIT_REMOTE_NAME", "PRE_COMMIT_REMOTE_URL", "PRE_COMMIT_FROM_REF",
                     "PRE_COMMIT_TO_REF", "PRE_COMMIT_REMOTE_BRANCH", "PRE_COMMIT_LOCAL_BRANCH",
                     "PRE_COMMIT_CHECKOUT_TYPE", "PRE_COMMIT_COMMIT_MSG_SOURCE",
                     "PRE_COMMIT_COMMIT_OBJECT_NAME"]),
    st.one_of(ENV_TEXT, st.sampled_from(["@main", "@develop", "@feature/x", "origin",
                                         "refs/heads/develop", "refs/heads/feature/x", "1", "0",
                                         "0" * 40])),
    max_size=6)


@given(variables=FRAMEWORK_VARS, args=ARGS)
@PROPERTY
def test_framework_entry_points_never_crash(world: World, variables: dict[str, str],
                                           args: list[str]) -> None:
    """`hook auto` / `auto-msg` detect the stage from whatever pre-commit exported."""
    env = {**world.env, **{k: with_shas(world.local, v) for k, v in variables.items()}}
    assert_sane(fw(["hook", "auto", *args], world.local.path, env))
    assert_sane(fw(["hook", "auto-msg", *args], world.local.path, env))
