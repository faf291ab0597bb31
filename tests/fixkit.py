"""Pasting printed fixes as a user does: the fix-line harness every rule's tests share.

A printed `fix:` line is a promise, and it is one of two things.

**A command line.** Valid POSIX sh and valid bash (`sh -n` and `bash -n` accept it), it works
when pasted into a shell in the state the user is in: `paste` runs it with `sh -c` in the
directory the user ran the refused operation from, with the user's environment, and asserts
it exits 0. It may end in a comment that tells the person the next step
(`git switch -c feature/my-topic  # ...; then run your git commit again`): the shell ignores
it, and the test does by hand what it says, usually retrying the refused operation, which
must then pass. Every name in it is one shell word for the REAL name
(`flowwarden.rules.fixes.shell_word`): never the escaped form a report displays.

**Words.** A fix that cannot be one command (retarget a pull request, keep a protected
branch) is a sentence for a person, and must not pretend to be a command. `assert_words`
checks the convention:
  1. its first word is not a command: neither sh nor bash finds an executable on PATH, a
     builtin, a keyword, an alias or a function of that name (`command -v`, `type`), so a
     paste fails at its first word;
  2. nothing in it runs or writes anything even if pasted: outside the names it quotes
     (`'...'`, or `shell_word`'s `"$(printf '...')"`), no `&&`, `||`, `;`, `|`, `&`,
     newline, `` ` `` or `$(`, and no `<` or `>` except around a placeholder
     (`<branch>`);
  3. it does not start with `git`, `dvc`, `mlflow`, `flowwarden` or a path.
A command it cites sits inside the sentence (`merge it with --no-ff`). A test of a words fix
asserts it is words, then follows the words by hand and asserts the operation then passes.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from fwkit import Repo, Result

_OPERATORS = ("&&", "||", ";", "|", "&", "\n", "`", "$(")
_PLACEHOLDER = re.compile(r"<[\w./:-]+>")
_QUOTED = re.compile(r"\"\$\(printf '[^']*'\)\"|'[^']*'")
_COMMAND_WORDS = ("git", "dvc", "mlflow", "flowwarden", "pre-commit", "python", "pip")


def fix_of(result: Result, rule: str, refused: bool = True) -> str:
    """The `fix:` line printed under `rule`'s first finding (`remote: ` prefixes of a
    server's reply removed); fails when the operation was not refused by `rule` (with
    `refused=False`: when it was, as a warning must not refuse)."""
    assert (result.code != 0) is refused, f"exit {result.code} under {rule}:\n{result.text}"
    lines = [re.sub(r"^remote: ?", "", line) for line in result.text.splitlines()]
    head = re.compile(rf"(?<![\w-]){re.escape(rule)}:")
    start = next((i for i, line in enumerate(lines) if head.search(line)), None)
    assert start is not None, f"{rule} not named:\n{result.text}"
    fix = next((line.strip()[len("fix:"):].strip() for line in lines[start + 1:]
                if line.strip().startswith("fix:")), None)
    assert fix, f"no fix line under {rule}:\n{result.text}"
    return fix


def is_words(fix: str) -> bool:
    """Whether `fix` is written as words (first word not a command), by the convention."""
    first = fix.split(maxsplit=1)[0] if fix.split() else ""
    return not _is_command(first) and not first.startswith(("/", "./", "~"))


def assert_words(fix: str, env: dict[str, str] | None = None) -> None:
    """`fix` follows the words convention: it cannot be mistaken for a command line."""
    first = fix.split(maxsplit=1)[0] if fix.split() else ""
    assert first and not first.startswith(("/", "./", "~")), f"not words: {fix}"
    assert first.rstrip(":,") not in _COMMAND_WORDS, f"starts like a command: {fix}"
    assert not _is_command(first, env), f"its first word is a command: {fix}"
    rest = _PLACEHOLDER.sub("", _QUOTED.sub("", fix))
    for op in _OPERATORS:
        assert op not in rest, f"{op!r} would run something if pasted: {fix}"
    assert "<" not in rest and ">" not in rest, f"a redirection if pasted: {fix}"


def shell_ok(fix: str) -> None:
    """`fix` parses as POSIX sh (dash) and as bash."""
    for shell in ("sh", "bash"):
        syntax = subprocess.run([shell, "-n", "-c", fix], capture_output=True, text=True)
        assert syntax.returncode == 0, f"not valid {shell}: {fix}\n{syntax.stderr}"


def paste(repo: Repo, fix: str, cwd: Path | None = None,
          env: dict[str, str] | None = None) -> Result:
    """Run `fix` as a user pastes it: `sh -c` in `cwd` (default: the repository's top),
    hooks on; asserts it is a command line, valid sh and bash, and that it exits 0."""
    assert not is_words(fix), f"a fix in words, not a command: {fix}"
    shell_ok(fix)
    proc = subprocess.run(["sh", "-c", fix], cwd=cwd or repo.path, env=env or repo.env,
                          capture_output=True, text=True, timeout=120)
    result = Result(proc.returncode, proc.stdout, proc.stderr)
    assert result.code == 0, f"fix failed when pasted: {fix}\n{result.text}"
    return result


def _is_command(word: str, env: dict[str, str] | None = None) -> bool:
    if not word:
        return False
    for shell, probe in (("sh", 'command -v -- "$1"'), ("bash", 'type -t -- "$1"')):
        found = subprocess.run([shell, "-c", probe, "_", word], capture_output=True, text=True,
                               env=env)
        if found.returncode == 0 and found.stdout.strip():
            return True
    return False
