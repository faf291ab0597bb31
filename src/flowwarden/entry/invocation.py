"""The git command a hook runs under, read from the hook's ancestor processes.

git tells a commit hook nothing of `--amend`, `--cleanup=<mode>` or `-v`: pre-commit runs
before any message exists, and prepare-commit-msg's `commit HEAD` means `--amend` and
`-C HEAD` alike (and `message` once -m or -F is given). The nearest `git` process above the
hook knows: its command line is read from /proc where there is one (Linux), else from POSIX
`ps` (macOS, the BSDs), and parsed with git's own option grammar. `ps` joins the arguments
with spaces, so there an argument holding a space and an option name (`-m "x --amend"`)
can be misread; /proc is exact.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from flowwarden.adapters.git import GitRepo
from flowwarden.core import proc

PROC = Path("/proc")
MAX_DEPTH = 8  # git, a hook manager, a shell or two, flowwarden: with room to spare
GIT_NAMES = frozenset({"git", "git.exe"})
#: git's own options before the command that take the next argument (`git -C dir commit`).
GLOBAL_WITH_ARG = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace",
                             "--super-prefix", "--config-env", "--attr-source"})

#: Each command's options as `git <command> --git-completion-helper-all` lists them (a test
#: compares): `=` takes an argument, `?` an optional one (attached only), `!` has no `--no-`.
#: Only commit and merge run the commit-msg hook (cherry-pick and revert pass `-n`).
LONG = {
    "commit": "quiet verbose file= author= date= message= reedit-message= reuse-message= "
              "fixup= squash= reset-author trailer=! signoff template= edit cleanup= status "
              "gpg-sign? all include interactive patch only no-verify dry-run short branch "
              "ahead-behind porcelain long null amend no-post-rewrite untracked-files? "
              "pathspec-from-file= pathspec-file-nul allow-empty allow-empty-message",
    "merge": "stat summary log? squash commit edit cleanup= ff ff-only! rerere-autoupdate "
             "verify-signatures strategy= strategy-option= message= file=! into-name= verbose "
             "quiet abort quit continue allow-unrelated-histories progress gpg-sign? autostash "
             "overwrite-ignore signoff no-verify",
    "push": "verbose quiet repo= all mirror delete tags dry-run porcelain force "
            "force-with-lease? force-if-includes recurse-submodules= thin receive-pack= exec= "
            "set-upstream progress prune no-verify follow-tags signed? atomic push-option= "
            "ipv4 ipv6",
}
SHORT = {
    "commit": "q:quiet v:verbose F:file m:message c:reedit-message C:reuse-message s:signoff "
              "t:template e:edit S:gpg-sign a:all i:include p:patch o:only n:no-verify z:null "
              "u:untracked-files",
    "merge": "n:stat e:edit m:message F:file s:strategy X:strategy-option v:verbose q:quiet "
             "S:gpg-sign",
    "push": "v:verbose q:quiet d:delete n:dry-run f:force u:set-upstream o:push-option "
            "4:ipv4 6:ipv6",
}
#: Push options that let git overwrite what the remote has (a `+` refspec does too).
FORCING = frozenset({"force", "force-with-lease", "force-if-includes", "mirror"})


class Spelling(NamedTuple):
    option: str  # the option's name in git's documentation: amend, cleanup, no-verify
    negated: bool  # --no-amend, --verify
    arity: str  # "" none, "=" required, "?" optional and attached


class GitCommand(NamedTuple):
    """What a git command line asks of a commit: the options a hook cannot see otherwise."""

    name: str  # git's command: commit, merge, push, ...
    amend: bool = False
    cleanup: str | None = None  # --cleanup=<mode>, None when not given
    verbose: int | None = None  # -v counted; 0 for --no-verbose; None when not given
    force: bool = False  # push: --force, --force-with-lease, --mirror... or a `+` refspec
    operands: tuple[str, ...] = ()  # push: the repository, then the refspecs


@functools.cache
def grammar(command: str) -> tuple[dict[str, Spelling], dict[str, Spelling]]:
    """Every long spelling git accepts for `command` (negations too), and its short options."""
    long: dict[str, Spelling] = {}
    for item in LONG.get(command, "").split():
        name = item.rstrip("=?!")
        arity = item[len(name):].replace("!", "")
        long[name] = Spelling(name, False, arity)
        if name.startswith("no-"):
            long[name[3:]] = Spelling(name, True, "")
        elif not item.endswith("!"):
            long["no-" + name] = Spelling(name, True, "")
    short = {}
    for pair in SHORT.get(command, "").split():
        letter, _, name = pair.partition(":")
        short[letter] = long[name]
    return long, short


def _resolve(long: dict[str, Spelling], typed: str) -> Spelling | None:
    """`typed` as git's parse-options reads it: exact, or an unambiguous abbreviation."""
    if typed in long:
        return long[typed]
    found = {s for name, s in long.items() if name.startswith(typed)}
    return found.pop() if len(found) == 1 else None


def parse_options(command: str, args: Sequence[str], operands: list[str] | None = None,
                  ) -> Iterator[tuple[Spelling, str | None]]:
    """Each option of `git <command> <args>` with its value, in order; operands skipped (or
    appended to `operands`)."""
    long, short = grammar(command)
    rest = iter(args)
    for arg in rest:
        if arg == "--":
            if operands is not None:
                operands.extend(rest)
            return
        if arg.startswith("--"):
            typed, eq, value = arg[2:].partition("=")
            spelling = _resolve(long, typed)
            if spelling is None:
                continue
            if spelling.arity == "=" and not eq:
                value = next(rest, "")
            yield spelling, value if eq or spelling.arity == "=" else None
        elif arg.startswith("-") and len(arg) > 1:
            for i, letter in enumerate(arg[1:], 2):
                spelling = short.get(letter)
                if spelling is None:
                    continue
                if spelling.arity:
                    attached = arg[i:] or (next(rest, "") if spelling.arity == "=" else None)
                    yield spelling, attached
                    break
                yield spelling, None
        elif operands is not None:
            operands.append(arg)


def parse_git(argv: Sequence[str]) -> GitCommand | None:
    """The command and its commit options from git's argv (`git -C x commit --amend`)."""
    at = 1
    while at < len(argv) and argv[at].startswith("-"):
        at += 2 if argv[at] in GLOBAL_WITH_ARG else 1
    if at >= len(argv):
        return None
    name, amend, cleanup, verbose, force = argv[at], False, None, None, set[str]()
    operands: list[str] = []
    for spelling, value in parse_options(name, argv[at + 1:], operands):
        if spelling.option in FORCING:
            (force.discard if spelling.negated else force.add)(spelling.option)
        elif spelling.option == "amend":
            amend = not spelling.negated
        elif spelling.option == "cleanup":
            cleanup = None if spelling.negated else value
        elif spelling.option == "verbose":
            verbose = 0 if spelling.negated else (verbose or 0) + 1
    plus = any(o.startswith("+") for o in operands[1:])
    return GitCommand(name, amend, cleanup, verbose, bool(force) or plus, tuple(operands))


Lookup = Callable[[int], tuple[list[str], int] | None]  # pid -> (argv, parent pid)


def _proc_lookup(root: Path) -> Lookup:
    def lookup(pid: int) -> tuple[list[str], int] | None:
        try:
            raw = (root / str(pid) / "cmdline").read_bytes()
            stat = (root / str(pid) / "stat").read_text(errors="replace")
        except OSError:
            return None
        argv = raw.removesuffix(b"\0").split(b"\0")  # an empty argument (-m "") stays
        return ([a.decode(errors="surrogateescape") for a in argv],
                int(stat.rsplit(")", 1)[1].split()[1]))
    return lookup


def _ps_lookup() -> Lookup:
    """One POSIX `ps` for every process; its `args` column joins the arguments with spaces."""
    try:
        _, out = proc.run(["ps", "-A", "-o", "pid=", "-o", "ppid=", "-o", "args="], check=False)
    except OSError:
        return lambda pid: None
    table = {}
    for line in out.decode(errors="surrogateescape").splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            table[int(parts[0])] = ((parts[2] if len(parts) > 2 else "").split(), int(parts[1]))
    return table.get


def find_git_command(start: int, proc_dir: Path | None = PROC) -> GitCommand | None:
    """The nearest `git` at or above process `start`, parsed; None when there is none or the
    process table cannot be read. `proc_dir=None` (or no such directory) asks `ps`."""
    lookup = _proc_lookup(proc_dir) if proc_dir is not None and proc_dir.is_dir() \
        else _ps_lookup()
    pid = start
    for _ in range(MAX_DEPTH):
        found = lookup(pid)
        if found is None:
            return None
        argv, pid = found
        if argv and Path(argv[0]).name in GIT_NAMES:
            return parse_git(argv)
        if pid <= 1:
            return None
    return None


@functools.cache
def running_git() -> GitCommand | None:
    """The git command this hook runs under (see `find_git_command`), read once."""
    return find_git_command(os.getppid())


def push_forced(repo: GitRepo, remote: str | None) -> bool | None:
    """Whether the running `git push` may overwrite the remote's branches (None: unknown):
    its options, its refspecs, else the remote's configured push refspecs."""
    command = running_git()
    if command is None or command.name != "push":
        return None
    if command.force or len(command.operands) > 1 or remote is None:
        return command.force
    pushes = repo.git("config", "--get-all", f"remote.{remote}.push", check=False).decode()
    return any(line.startswith("+") for line in pushes.splitlines())
