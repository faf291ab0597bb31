"""`flowwarden install`: put the hook shims in place, keeping any hook that was there."""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import flowwarden
from flowwarden.adapters.git import GitRepo
from flowwarden.core.errors import UsageError
from flowwarden.core.stages import Stage
from flowwarden.entry.quiet import QUIET_STAGES, SHELL

WORKTREE_STAGES = ("pre-commit", "pre-merge-commit", "commit-msg", "prepare-commit-msg",
                   "pre-push", "post-checkout")
SERVER_STAGES = ("pre-receive",)
STDIN_STAGES = ("pre-push", "pre-receive")
MARKER = "# installed by flowwarden install"
CHAINED = ".pre-flowwarden"
QUIET = {s.value for s in QUIET_STAGES}


def python_command(stage: str) -> str:
    """This Python, started without `site` (entry/shim.py loads it when an import needs it),
    on this flowwarden's directory; the server's also ignores the pusher's PYTHON* variables."""
    where = str(Path(flowwarden.__file__).resolve().parent.parent)
    code = ("import sys; sys.path[:] = [p for p in sys.path if p] + [" + repr(where) + "]; "
            "from flowwarden.entry.shim import main; sys.exit(main())")
    flags = "-I -S" if stage in SERVER_STAGES else "-S"
    return f"{shlex.quote(sys.executable)} {flags} -c {shlex.quote(code)} hook {stage} \"$@\""


#: Runs the replaced hook under its own path and name ($0: husky and lefthook find their
#: scripts by it), shell scripts sourced by their own shell so `$0` stays the hook's; with
#: FLOWWARDEN_HOOK_RAN so the pre-commit framework's flowwarden hook does not check twice.
CHAIN = """fw_chain() {
    [ -x "$chained" ] || return 0
    FLOWWARDEN_HOOK_RAN=%s FW_CHAINED=$chained
    export FLOWWARDEN_HOOK_RAN FW_CHAINED
    IFS= read -r fw_bang < "$chained" || fw_bang=
    case $fw_bang in
        "#!"*bash*) bash -c '. "$FW_CHAINED"' "$0" "$@" ;;
        "#!"*/sh|"#!"*" sh"|"#!"*/dash|"#!"*" dash") sh -c '. "$FW_CHAINED"' "$0" "$@" ;;
        *) "$chained" "$@" ;;
    esac
}
"""


def shim(stage: str) -> str:
    """A hook that runs flowwarden with this Python and the hook it replaced, if any: before
    flowwarden at pre-push (DVC's runs `dvc push`, which dvc-not-pushed then sees), after it
    everywhere else (a refused commit runs no one else's side effects)."""
    command = python_command(stage)
    feed = ""
    if stage in STDIN_STAGES:  # both consumers need git's stdin
        # git's bytes exactly: $(...) drops trailing newlines, so read one more byte and cut it
        feed, pipe = "fw_in=$(cat; echo .)\nfw_in=${fw_in%.}\n", 'printf %s "$fw_in" | '
        run, chained = pipe + command, pipe + 'fw_chain "$@"'
    else:
        run, chained = command, 'fw_chain "$@"'
    quiet = ""
    if stage in QUIET:
        quiet, run = SHELL, f"fw_quiet {stage} || {run}"
    first, then = (chained, run) if stage == "pre-push" else (run, chained)
    order = f"{feed}{first} || exit $?\n{then} || exit $?\n"
    return (f"#!/bin/sh\n{MARKER}: the {stage} policy check and the hook it replaced.\n"
            f'chained="$0{CHAINED}"\n{CHAIN % stage}{quiet}{order}')


INSTALL_ADVICE = ('pip install \\"flowwarden @ git+<url of the flowwarden repository>@<tag or '
                  'commit>\\" (the rev: of .pre-commit-config.yaml; see the README\'s Install), '
                  'or set FLOWWARDEN')


def repo_shim(stage: str) -> str:
    """The shim in this project's hooks/ (for `core.hooksPath`): the `flowwarden` on PATH, or
    the command FLOWWARDEN names; the server's runs `flowwarden` whatever the pusher sets."""
    if stage == Stage.PRE_RECEIVE.value:
        return SERVER_SHIM
    quiet = f"{SHELL}fw_quiet {stage} && exit 0\n" if stage in QUIET else ""
    return (f"#!/bin/sh\n# git runs this as its {stage} hook; flowwarden checks the policy and "
            f"explains any refusal.\n{quiet}"
            f'if ! command -v "${{FLOWWARDEN:-flowwarden}}" >/dev/null 2>&1; then\n'
            f'    echo "flowwarden: command not found, so the {stage} policy check '
            f'cannot run." >&2\n'
            f'    echo "  fix: {INSTALL_ADVICE}, or skip deliberately with --no-verify" >&2\n'
            f"    exit 3\nfi\n"
            f'exec "${{FLOWWARDEN:-flowwarden}}" hook {stage} "$@"\n')


SERVER_SHIM = """#!/bin/sh
# git runs this as its pre-receive hook on the server; flowwarden judges every pushed ref.
# The command is fixed: nothing in the pusher's environment chooses what runs here.
if ! command -v flowwarden >/dev/null 2>&1; then
    echo "flowwarden: command not found on the server, so the pre-receive policy check" >&2
    echo "  cannot run and the push is refused." >&2
    echo "  fix: install flowwarden on the server, on the PATH of the user git runs hooks as" >&2
    exit 3
fi
exec flowwarden hook pre-receive "$@"
"""


def hooks_dir(repo: GitRepo) -> Path:
    path = Path(repo.git("rev-parse", "--git-path", "hooks").decode().strip())
    return path if path.is_absolute() else repo.cwd / path


def install(repo: GitRepo) -> list[str]:
    directory = hooks_dir(repo)
    report: list[str] = []
    if _shared(repo, directory):
        directory, report = _own_hooks(repo, directory)
    directory.mkdir(parents=True, exist_ok=True)
    replaced = []
    for stage in SERVER_STAGES if repo.root is None else WORKTREE_STAGES:
        target = directory / stage
        note = ""
        if target.exists() and MARKER not in (text := target.read_text(errors="replace")):
            replaced.append(text)
            target.replace(directory / (stage + CHAINED))
            when = "before" if stage == "pre-push" else "after"  # as shim() orders them
            note = f" (the previous hook runs {when} it: {stage}{CHAINED})"
        target.write_text(shim(stage))
        target.chmod(0o755)
        report.append(f"installed {target}{note}")
    return report + manager_note(repo.root, directory, replaced)


#: Every hook git runs, for the ones a shared `core.hooksPath` holds.
GIT_HOOKS = frozenset(
    "applypatch-msg pre-applypatch post-applypatch pre-commit pre-merge-commit "
    "prepare-commit-msg commit-msg post-commit pre-rebase post-checkout post-merge pre-push "
    "pre-receive update proc-receive post-receive post-update reference-transaction "
    "push-to-checkout pre-auto-gc post-rewrite sendemail-validate fsmonitor-watchman "
    "p4-changelist p4-prepare-changelist p4-post-changelist p4-pre-submit "
    "post-index-change".split())
SHARED = "# installed by flowwarden install: the shared hook core.hooksPath names"
PREVIOUS = "flowwarden.previousHooksPath"


def _shared(repo: GitRepo, directory: Path) -> bool:
    """A `core.hooksPath` someone else owns: outside this repository (a team's or the user's
    global hooks: flowwarden's shims there would run in every repository that uses it), or
    tracked in it (the project's hooks: the shims would show up as changes to commit)."""
    where = directory.resolve()
    if any(where == p or p in where.parents
           for p in (repo.git_dir.resolve(), repo.common_dir.resolve())):
        return False
    if repo.root is None or not (where == repo.root.resolve()
                                 or repo.root.resolve() in where.parents):
        return True
    return bool(repo.git("ls-files", "-z", "--", str(where)).strip(b"\0"))


def _own_hooks(repo: GitRepo, shared: Path) -> tuple[Path, list[str]]:
    """Give this repository its own hooks directory: each shared hook runs from there under
    its own path, chained after flowwarden's (before it at pre-push), and the shared
    directory stays as it was."""
    own = repo.common_dir / "hooks"
    if own.is_symlink() or own.resolve() == shared.resolve():  # .git/hooks is the shared one
        own = repo.common_dir / "flowwarden" / "hooks"
    names = sorted(p.name for p in shared.iterdir() if p.name in GIT_HOOKS
                   and p.is_file() and os.access(p, os.X_OK)) if shared.is_dir() else []
    stages = set(SERVER_STAGES if repo.root is None else WORKTREE_STAGES)
    own.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = own / (name + CHAINED if name in stages else name)
        if target.exists() and SHARED not in target.read_text(errors="replace"):
            raise UsageError(f"{target} is in the way of running the shared {name} hook from "
                             f"this repository's own hooks directory",
                             f"move it away (it does not run while core.hooksPath is "
                             f"{shlex.quote(str(shared))}): mv {shlex.quote(str(target))} "
                             f"{shlex.quote(str(target))}.off")
    for name in names:
        target = own / (name + CHAINED if name in stages else name)
        target.write_text(f"#!/bin/sh\n{SHARED}\nexec {shlex.quote(str(shared / name))} "
                          f'"$@"\n')
        target.chmod(0o755)
    previous = repo.git("config", "--local", "core.hooksPath", check=False).decode().strip()
    if previous:  # uninstall puts it back
        repo.git("config", "--local", PREVIOUS, previous)
    repo.git("config", "--local", "core.hooksPath", str(own))
    return own, [f"core.hooksPath is {shared}, which flowwarden does not own (outside this "
                 f"repository, or tracked in it): installed in {own} instead (core.hooksPath "
                 f"set for this repository), where its hooks still run: "
                 f"{', '.join(names) or 'none there'}"]


LEFTHOOK_CONFIGS = ("lefthook.yml", ".lefthook.yml", "lefthook.yaml", ".lefthook.yaml",
                    ".config/lefthook.yml", ".config/lefthook.yaml", "lefthook.toml",
                    ".lefthook.toml", "lefthook.json", ".lefthook.json")
#: What each stage's command line needs of git's arguments and stdin, in lefthook's terms.
LEFTHOOK_ARGS = {"commit-msg": " {1}", "prepare-commit-msg": " {1} {2} {3}",
                 "pre-push": " {1} {2}", "post-checkout": " {1} {2} {3}"}
ARGS = '"$@"'  # a husky script passes git's arguments on


def manager_note(root: Path | None, directory: Path, replaced: list[str]) -> list[str]:
    """How to keep the checks where a hook manager rewrites its hooks (and so drops these
    shims): as that manager's own commands."""
    if root is None:
        return []
    if any(root.joinpath(name).is_file() for name in LEFTHOOK_CONFIGS) \
            or any("lefthook" in text for text in replaced):
        lines = ["note: lefthook writes its hooks again when its config changes (and on "
                 "`lefthook install`), moving these aside to <hook>.old, and flowwarden's "
                 "checks stop; to keep them, merge this into lefthook.yml:"]
        for stage in WORKTREE_STAGES:
            stdin = "      use_stdin: true\n" if stage in STDIN_STAGES else ""
            lines.append(f"{stage}:\n  commands:\n    flowwarden:\n      run: flowwarden "
                         f"hook {stage}{LEFTHOOK_ARGS.get(stage, '')}\n{stdin}".rstrip("\n"))
        return lines
    package = root / "package.json"
    if directory.parts[-2:] == (".husky", "_") \
            or package.is_file() and '"husky' in package.read_text(errors="replace"):
        echoes = (f"echo {shlex.quote(f'flowwarden hook {stage} {ARGS}')} >> "
                  f"{shlex.quote(str(root / '.husky' / stage))}" for stage in WORKTREE_STAGES)
        return ["note: husky writes its hooks in .husky/_ again on every `husky` run (npm's "
                "prepare script) and points core.hooksPath there, and flowwarden's checks "
                "stop; to keep them, add them to husky's scripts: " + " && ".join(echoes)]
    return []


def uninstall(repo: GitRepo) -> list[str]:
    directory = hooks_dir(repo)
    report = []
    for stage in (*WORKTREE_STAGES, *SERVER_STAGES):
        target = directory / stage
        if not target.exists() or MARKER not in target.read_text(errors="replace"):
            continue
        previous = directory / (stage + CHAINED)
        if previous.exists():
            previous.replace(target)
            report.append(f"restored the previous {stage} hook")
        else:
            target.unlink()
            report.append(f"removed {target}")
    shared = [p for p in directory.iterdir() if p.is_file()
              and SHARED in p.read_text(errors="replace")] if directory.is_dir() else []
    for path in shared:
        path.unlink()
    own = str(repo.common_dir / "hooks")
    if repo.git("config", "--local", "core.hooksPath", check=False).decode().strip() == own:
        earlier = repo.git("config", "--local", PREVIOUS, check=False).decode().strip()
        if earlier:
            repo.git("config", "--local", "core.hooksPath", earlier)
            repo.git("config", "--local", "--unset", PREVIOUS)
        else:
            repo.git("config", "--local", "--unset", "core.hooksPath")
        report.append(f"core.hooksPath: {earlier or 'the shared one'} again")
    return report or ["nothing to remove: no hook installed by flowwarden"]
