"""Git hook stages: build the event git is about to perform, from git's own state."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from flowwarden.adapters.git import GitRepo, looks_like_sha
from flowwarden.adapters.git.messages import cleanup, comment_char, parse_merge_message
from flowwarden.core.errors import UsageError
from flowwarden.core.records import (
    ZERO_SHA,
    BranchCreated,
    CommitAttempt,
    CommitMessage,
    Event,
    MergeAttempt,
    Push,
    RefUpdate,
)
from flowwarden.core.stages import HOOK_STAGES, Stage
from flowwarden.entry.invocation import GitCommand, push_forced, running_git

STAGES = HOOK_STAGES


class HookUsageError(UsageError):
    """git, or whoever called the hook, passed arguments or input git never would."""


class HookCall(NamedTuple):
    """A hook invocation: its stage, git's arguments and stdin, and the environment."""

    stage: Stage
    args: tuple[str, ...]
    stdin: bytes
    env: Mapping[str, str]


def detect_stage(name: str, args: Sequence[str], env: Mapping[str, str]) -> Stage:
    """The stage for `hook NAME`; `auto` and `auto-msg` read what the pre-commit framework sets."""
    if name in STAGES:
        return STAGES[name]
    if name == "auto":
        if env.get("PRE_COMMIT_REMOTE_NAME") is not None:
            return Stage.PRE_PUSH
        if env.get("PRE_COMMIT_CHECKOUT_TYPE") is not None:
            return Stage.POST_CHECKOUT
        if any(k.startswith("GITHEAD_") for k in env):
            return Stage.PRE_MERGE_COMMIT
        return Stage.PRE_COMMIT
    if name == "auto-msg":
        if env.get("PRE_COMMIT_COMMIT_MSG_SOURCE"):
            return Stage.PREPARE_COMMIT_MSG
        # prepare-commit-msg without a source is a fresh editor template: no message yet.
        # git never records an empty message, so commit-msg always has text.
        if args and not read_text(args[0]).strip():
            return Stage.PREPARE_COMMIT_MSG
        return Stage.COMMIT_MSG
    raise HookUsageError(f"unknown hook stage '{name}'; expected one of: "
                         f"{', '.join([*STAGES, 'auto', 'auto-msg'])}")


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def clean_message(text: str, repo: GitRepo | None = None,
                  env: Mapping[str, str] | None = None,
                  command: GitCommand | None = None) -> str:
    """The message as git will record it from the file: the `--cleanup` and `-v` of the git
    `command` running the hook (None: unknown), else `commit.cleanup` and `commit.verbose`
    (`default`: strip with an editor, whitespace without: git sets GIT_EDITOR=: for the hooks
    then); `core.commentChar` (auto too)."""
    settings = _message_settings(repo) if repo is not None else {}
    editor = (env or {}).get("GIT_EDITOR") != ":"
    char = comment_char(settings.get("core.commentchar"), text)
    mode = settings.get("commit.cleanup", "default")
    verbose = True  # unknown: git writes a scissors line itself for -v
    if command is not None and command.name in ("commit", "merge"):
        mode = command.cleanup or mode
        configured = settings.get("commit.verbose", "").lower() not in ("false", "no", "off",
                                                                         "0", "")
        verbose = command.name == "commit" and (
            configured if command.verbose is None else command.verbose > 0)
    return cleanup(text, mode, char, editor, verbose) or "\n"


def _message_settings(repo: GitRepo) -> dict[str, str]:
    out = repo.git("config", "-z", "--get-regexp",
                   r"^(commit\.cleanup|commit\.verbose|core\.commentchar)$",
                   check=False).decode(errors="replace")
    pairs = (item.partition("\n") for item in out.split("\0") if item)
    return {key.lower(): value if sep else "true" for key, sep, value in pairs}


def is_manual_run(stage: Stage, env: Mapping[str, str]) -> bool:
    """`pre-commit run` by hand or in CI: git sets GIT_INDEX_FILE for every commit hook
    (pre-commit, pre-merge-commit, commit-msg); without it nothing is being committed."""
    return stage in (Stage.PRE_COMMIT, Stage.PRE_MERGE_COMMIT, Stage.COMMIT_MSG) \
        and env.get("PRE_COMMIT") == "1" and "GIT_INDEX_FILE" not in env


def build_events(call: HookCall, repo: GitRepo) -> list[Event]:
    """The events this hook call stands for (none when there is nothing to judge)."""
    builder = _BUILDERS.get(call.stage)
    if builder is None or is_manual_run(call.stage, call.env):
        return []
    return builder(call, repo)


def _commit(call: HookCall, repo: GitRepo) -> list[Event]:
    head = repo.head()
    merge_head = repo.merge_head()
    source = None
    if merge_head:
        info = parse_merge_message(repo.merge_msg() or "")
        source = info.source if info else None
    elif head and _amending():
        # An amended merge keeps HEAD's parents: it is still that merge.
        amended = repo.commit(head)
        if amended is not None and amended.is_merge:
            merge_head = amended.parents[1]
            info = parse_merge_message(amended.message)
            source = info.source if info else None
    return [CommitAttempt(repo.current_branch(), head, repo.staged_changes(head),
                          merge_head, source)]


def _merge(call: HookCall, repo: GitRepo) -> list[Event]:
    target = repo.current_branch()
    if target is None:
        return []
    merged = [(k[len("GITHEAD_"):], v) for k, v in call.env.items() if k.startswith("GITHEAD_")]
    if not merged:
        action = call.env.get("GIT_REFLOG_ACTION", "")
        name = action.split()[-1] if action.startswith("merge ") else None
        if name is None:
            return []
        merged = [(repo.rev_parse(name) or "", name)]
    head = repo.head()
    return [MergeAttempt(_merged_name(name), target, sha or None, head) for sha, name in merged]


def _merged_name(typed: str) -> str:
    """GITHEAD_ values are the name as typed, or `branch 'x' of <url>` for a pull."""
    match = re.match(r"(?:remote-tracking )?branch '([^']+)'", typed)
    return match.group(1) if match else typed


def message_source(call: HookCall) -> str | None:
    """prepare-commit-msg's source (message, template, merge, squash, commit): git's second
    argument, or what the pre-commit framework passes on."""
    source = call.args[1] if len(call.args) > 1 else call.env.get("PRE_COMMIT_COMMIT_MSG_SOURCE")
    return source or None


def _message(call: HookCall, repo: GitRepo) -> list[Event]:
    if not call.args:
        raise HookUsageError(f"{call.stage.value} needs the message file as its argument")
    path = call.args[0]
    source = message_source(call)
    is_merge = repo.merge_head() is not None or any(k.startswith("GITHEAD_") for k in call.env)
    if not is_merge and (head := repo.head()) and _amending():
        amended = repo.commit(head)
        is_merge = amended is not None and amended.is_merge
    text = clean_message(read_text(path), repo, call.env, running_git())
    return [CommitMessage(repo.current_branch(), text, path, is_merge, source)]


def _amending() -> bool:
    """Whether the git running this hook is `git commit --amend` (git says so in no hook's
    arguments or environment before the commit exists)."""
    command = running_git()
    return command is not None and command.name == "commit" and command.amend


def parse_push_lines(stdin: bytes) -> list[tuple[str, str, str, str]]:
    """git's pre-push stdin: `<local-ref> <local-sha> <remote-ref> <remote-sha>` per line."""
    out = []
    for line in stdin.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4 or not all(looks_like_sha(p) for p in (parts[1], parts[3])):
            raise HookUsageError(f"unexpected pre-push input line: {line[:120]!r}; expected "
                                 "'<local-ref> <local-sha> <remote-ref> <remote-sha>'")
        out.append((parts[0], parts[1], parts[2], parts[3]))
    return out


def _push(call: HookCall, repo: GitRepo) -> list[Event]:
    if "PRE_COMMIT_REMOTE_NAME" in call.env and not call.stdin:
        return _framework_push(call, repo)
    remote = call.args[0] if call.args else None
    url = call.args[1] if len(call.args) > 1 else None
    if remote is not None and remote not in repo.remotes:
        remote = _remote_named_by(repo, remote) or remote
    lines = parse_push_lines(call.stdin)
    updates = tuple(RefUpdate(remote_ref, remote_sha, local_sha, local_ref)
                    for local_ref, local_sha, remote_ref, remote_sha in lines)
    _require_objects(repo, updates)
    return [Push(updates, remote, url, push_forced(repo, remote))] if updates else []



def _remote_named_by(repo: GitRepo, url: str) -> str | None:
    """`git push <url>` hands the hook the URL as the remote: the remote with that URL."""
    out = repo.git("config", "-z", "--get-regexp", r"^remote\..*\.(push)?url$",
                   check=False).decode(errors="replace")
    for item in out.split("\0"):
        key, _, value = item.partition("\n")
        if value.rstrip("/") == url.rstrip("/"):
            name = key[len("remote."):].rsplit(".", 1)[0]
            if name in repo.remotes:
                return name
    return None


def _require_objects(repo: GitRepo, updates: Sequence[RefUpdate]) -> None:
    """Every pushed tip must be a commit here; git guarantees it, so anything else is bad input."""
    missing = repo.missing_objects(u.new for u in updates if not u.is_delete)
    if missing:
        raise HookUsageError(f"pushed commit {missing[0]} is not in this repository; "
                             "expected git's own hook input")


def _framework_push(call: HookCall, repo: GitRepo) -> list[Event]:
    """Under the pre-commit framework: the one ref it exposes (never a deletion)."""
    env = call.env
    remote = env["PRE_COMMIT_REMOTE_NAME"]
    ref = env.get("PRE_COMMIT_REMOTE_BRANCH", "")
    local = env.get("PRE_COMMIT_LOCAL_BRANCH", "")
    new = repo.rev_parse(env["PRE_COMMIT_TO_REF"]) if env.get("PRE_COMMIT_TO_REF") else None
    new = new or (repo.rev_parse(local) if local else None) or ""
    if not ref or not new:
        return []
    short = ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else ref
    old = repo.remote_branches(remote).get(short, ZERO_SHA)
    return [Push((RefUpdate(ref, old, new, local),), remote, env.get("PRE_COMMIT_REMOTE_URL"),
                 push_forced(repo, remote))]


def _checkout(call: HookCall, repo: GitRepo) -> list[Event]:
    env = call.env
    args = list(call.args) or [env.get("PRE_COMMIT_FROM_REF", ""), env.get("PRE_COMMIT_TO_REF", ""),
                               env.get("PRE_COMMIT_CHECKOUT_TYPE", "")]
    if len(args) < 3 or args[2] != "1":
        return []
    branch = repo.current_branch()
    if branch is None or not _just_created(repo, branch):
        return []
    return [BranchCreated(branch, args[1], None)]


def _just_created(repo: GitRepo, branch: str) -> bool:
    """A branch whose reflog holds only its creation."""
    log = repo.common_dir / "logs" / "refs" / "heads" / branch
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return False
    return len(lines) == 1 and "\tbranch: Created from" in lines[0]


def parse_receive_lines(stdin: bytes) -> list[RefUpdate]:
    """pre-receive's stdin: `<old> <new> <ref>` per line."""
    out = []
    for line in stdin.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3 or not (looks_like_sha(parts[0]) and looks_like_sha(parts[1])):
            raise HookUsageError(f"unexpected pre-receive input line: {line[:120]!r}; "
                                 "expected '<old-sha> <new-sha> <ref>'")
        out.append(RefUpdate(parts[2], parts[0], parts[1]))
    return out


def _receive(call: HookCall, repo: GitRepo) -> list[Event]:
    updates = tuple(parse_receive_lines(call.stdin))
    _require_objects(repo, updates)
    return [Push(updates)] if updates else []


_BUILDERS = {
    Stage.PRE_COMMIT: _commit,
    Stage.PRE_MERGE_COMMIT: _merge,
    Stage.COMMIT_MSG: _message,
    Stage.PRE_PUSH: _push,
    Stage.POST_CHECKOUT: _checkout,
    Stage.PRE_RECEIVE: _receive,
}

