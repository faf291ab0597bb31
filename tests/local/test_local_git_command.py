"""What a hook learns from the git command running it (`--amend`, `--cleanup`, `-v`), read from
/proc and from POSIX `ps` alike, checked against what real git then did."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from flowwarden.entry.invocation import LONG, find_git_command, grammar, parse_git
from fwkit import Repo

#: A hook that records, in the git dir, what flowwarden reads of the git command above it:
#: through /proc and through `ps` (forced), and the message its commit-msg stage judges.
SPY = f"""#!{sys.executable}
import json, os, sys
from pathlib import Path
from flowwarden.adapters.git import GitRepo
from flowwarden.core.stages import Stage
from flowwarden.entry.hook import HookCall, build_events
from flowwarden.entry.invocation import find_git_command

stage = Path(sys.argv[0]).name
seen = {{"proc": find_git_command(os.getppid()), "ps": find_git_command(os.getppid(), None)}}
if stage == "commit-msg":
    call = HookCall(Stage.COMMIT_MSG, tuple(sys.argv[1:]), b"", dict(os.environ))
    seen["message"] = build_events(call, GitRepo.discover(".")).pop().message
repo = GitRepo.discover(".")
(repo.git_dir / f"spy-{{stage}}.json").write_text(json.dumps(seen))
"""
#: A `#` subject, a comment line, a trailer and a cut line with text after it: each cleanup
#: mode, with and without an editor or -v, records something else.
MESSAGE = ("#12 wider encoder\n\nBody  \n# a comment\n\nMLflow-Run-Id: abc123\n"
           "# ------------------------ >8 ------------------------\nbelow the cut\n")


@pytest.fixture
def spied(repo: Repo) -> Repo:
    hooks = repo.path / ".spy"
    hooks.mkdir()
    for stage in ("pre-commit", "commit-msg"):
        (hooks / stage).write_text(SPY)
        (hooks / stage).chmod(0o755)
    repo.git("config", "core.hooksPath", str(hooks))
    return repo


def spy(repo: Repo, stage: str) -> dict[str, object]:
    seen: dict[str, object] = json.loads((repo.path / ".git" / f"spy-{stage}.json").read_text())
    return seen


@pytest.mark.parametrize("args", [
    ["commit", "--amend", "--no-edit"],
    ["commit", "--amen", "--no-edit", "-q"],  # git takes unambiguous abbreviations
    ["commit", "--amend", "--no-amend", "--allow-empty", "-m", "x"],
    ["commit", "-qm", "--amend", "--allow-empty"],  # the message, not the option
    ["-C", ".", "-c", "user.name=Bob", "commit", "--amend", "--no-edit"],
    ["ci", "--amend", "--no-edit"],  # an alias: git runs `git commit` under it
])
def test_amend_is_read_as_git_parsed_it(spied: Repo, args: list[str]) -> None:
    spied.git("config", "alias.ci", "commit")
    before = spied.git("rev-list", "--count", "HEAD").out
    spied.git(*args, stdin="message\n")
    amended = spied.git("rev-list", "--count", "HEAD").out == before  # a commit adds one
    seen = spy(spied, "pre-commit")
    assert seen["proc"] is not None and seen["proc"][:2] == ["commit", amended]  # type: ignore[index]
    assert seen["ps"] == seen["proc"], "ps read the command line differently from /proc"


@pytest.mark.parametrize("mode", ["strip", "whitespace", "verbatim", "scissors", "default"])
@pytest.mark.parametrize("how", [("-m",), ("-e", "-F"), ("-e", "-v", "-F"), ("-v", "-F")])
@pytest.mark.parametrize("where", ["option", "config"])
def test_commit_msg_judges_the_message_git_records(spied: Repo, mode: str, how: tuple[str, ...],
                                                   where: str) -> None:
    """`--cleanup=<mode>` on the command line or `-c commit.cleanup=<mode>`, with -m, an
    editor, -v: the commit-msg hook judges exactly the message git then records."""
    (spied.path / "msg.txt").write_text(MESSAGE)
    text = ["-m", MESSAGE] if how == ("-m",) else [*how, "msg.txt"]
    option = [f"--cleanup={mode}"] if where == "option" else []
    config = ["-c", f"commit.cleanup={mode}"] if where == "config" else []
    spied.git(*config, "commit", "--allow-empty", *option, *text, env={"GIT_EDITOR": "true"})
    recorded = spied.git("log", "-1", "--format=%B").out.rstrip("\n")
    assert str(spy(spied, "commit-msg")["message"]).rstrip("\n") == recorded


def test_command_line_cleanup_wins_over_config(spied: Repo) -> None:
    spied.git("config", "commit.cleanup", "strip")
    spied.git("commit", "--allow-empty", "--cleanup", "verbatim", "-m", "#12 x\n\n# kept\n")
    seen = spy(spied, "commit-msg")
    assert seen["message"] == "#12 x\n\n# kept\n"
    assert seen["ps"][:4] == seen["proc"][:4] == ["commit", False, "verbatim", None]


def test_no_git_above_is_no_command() -> None:
    """A process no git started (an orphan: its parent is init or a subreaper) has no git
    command line, through /proc or ps."""
    started = subprocess.run(["sh", "-c", "sleep 5 >/dev/null 2>&1 & echo $!"],
                             capture_output=True, text=True, check=True)
    orphan = int(started.stdout)
    try:
        assert find_git_command(orphan) is None
        assert find_git_command(orphan, None) is None
    finally:
        subprocess.run(["kill", str(orphan)], check=False)


@pytest.mark.parametrize("command", sorted(LONG))
def test_option_grammar_is_gits(repo: Repo, command: str) -> None:
    """The spellings and the options that take an argument, as git's own completion helper
    lists them: abbreviations resolve as git resolves them, and no option's argument is
    read as an option."""
    helper = repo.git(command, "--git-completion-helper-all").out.split()
    long, _short = grammar(command)
    assert set(long) <= {h.lstrip("-").rstrip("=") for h in helper if h != "--"}
    assert {h[2:-1] for h in helper if h.endswith("=")} <= \
        {name for name, s in long.items() if s.arity == "="}


def test_options_after_dashdash_and_in_values_are_not_options() -> None:
    parsed = parse_git(["git", "--git-dir", "x", "commit", "-vvm", "--cleanup=strip",
                        "--clean", "scissors", "-c", "--amend", "--", "--no-verbose"])
    assert parsed is not None
    assert (parsed.name, parsed.amend, parsed.cleanup, parsed.verbose) == \
        ("commit", False, "scissors", 2)


@pytest.mark.parametrize("mode", ["strip", "verbatim", "scissors"])
def test_merge_cleanup_is_judged_as_git_records_it(spied: Repo, mode: str) -> None:
    """`git merge --cleanup=<mode> -m ...` runs commit-msg too, with its own command line."""
    spied.git("switch", "-qc", "feature/x")
    spied.git("commit", "--allow-empty", "-m", "x")
    spied.git("switch", "-q", "main")
    spied.git("merge", "--no-ff", f"--cleanup={mode}", "-m", MESSAGE, "feature/x")
    recorded = spied.git("log", "-1", "--format=%B").out.rstrip("\n")
    seen = spy(spied, "commit-msg")
    assert str(seen["message"]).rstrip("\n") == recorded
    assert seen["ps"][:4] == seen["proc"][:4] == ["merge", False, mode, None]
