"""Fix lines shared by several rules: names as shell words, a legal branch name, the way to
merge elsewhere."""
from __future__ import annotations

import re
from collections.abc import Iterable
from shlex import quote

from flowwarden.core.stages import Stage
from flowwarden.policy.model import BranchKind, Policy

# What must not reach a terminal raw (as report/escape.py's terminal() makes visible), and
# lone surrogates: bytes of a file name that are not UTF-8.
_UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def shell_word(raw: str) -> str:
    """`raw` (a branch or file name, exactly as git holds it) as one POSIX shell word that
    prints no raw control or bidi character: `shlex.quote(raw)` when all of it is printable,
    else `"$(printf 'a\\342\\200\\256b')"` (octal escapes), which sh, bash and zsh expand
    to the real name. A name that also ends in a newline, which `$(...)` would drop, falls
    back to `shlex.quote` (safe, and shown escaped, so visibly not pasteable): `pasteable`
    tells those apart. A git ref name never holds a control character."""
    if not _UNPRINTABLE.search(raw):
        return quote(raw)
    if raw.endswith("\n"):
        return quote(raw)
    return "\"$(printf '" + "".join(_format(c, i == 0) for i, c in enumerate(raw)) + "')\""


def _format(char: str, first: bool) -> str:
    """One character of `raw` as printf format text inside single quotes."""
    if _UNPRINTABLE.match(char) or (first and char == "-"):  # a leading - is an option
        data = char.encode("utf-8", "surrogateescape")
        return "".join(f"\\{byte:03o}" for byte in data)
    return {"'": "'\\''", "%": "%%", "\\": "\\\\"}.get(char, char)


def path_word(raw: str) -> str:
    """A repository path (relative, as git lists it) as one shell word that no command can
    take for an option: a file named `--pathspec-from-file=x` becomes `./--pathspec-...`."""
    return shell_word(f"./{raw}" if raw.startswith("-") else raw)


def pasteable(raw: str) -> bool:
    """Whether `shell_word(raw)` exists: every name but one ending in a newline."""
    return not (_UNPRINTABLE.search(raw) and raw.endswith("\n"))


def in_project(project: str) -> str:
    """The `cd` that runs a DVC command in `project` (a DVC project's directory, relative to
    the repository's top; "" for the top) from wherever in the repository the user is:
    `cd "$(git rev-parse --show-toplevel)"/ml && `, or "" for the top."""
    if not project or project == ".":
        return ""
    return f'cd "$(git rev-parse --show-toplevel)"/{shell_word(project)} && '


def free_name(name: str, taken: Iterable[str]) -> str:
    """`name`, or `name-2`, `name-3`...: the first no branch in `taken` holds, so a fix's
    `git switch -c` cannot fail on a branch left from an earlier attempt."""
    used = set(taken)
    return next(f"{name}-{n}" if n > 1 else name for n in range(1, len(used) + 2)
                if (f"{name}-{n}" if n > 1 else name) not in used)


def suggest_name(branch: str, policy: Policy) -> str:
    """A legal name close to `branch`: lower-cased, odd characters replaced, a kind prefix."""
    cleaned = re.sub(r"[^a-z0-9._/-]+", "-", branch.lower()).strip("-/")
    if policy.kind_of(cleaned):
        return cleaned
    topic = re.sub(r"[^a-z0-9._-]+", "-", cleaned.rsplit("/", 1)[-1]).strip("-.") or "topic"
    prefix = cleaned.split("/", 1)[0] if "/" in cleaned else "feature"
    for name in (prefix, "feature"):
        if policy.kind_of(f"{name}/{topic}"):
            return f"{name}/{topic}"
    return f"feature/{topic}"


def branch_of_kind(kind: str, policy: Policy, branches: Iterable[str]) -> str:
    """The repository's branch of `kind` (main may be called master), else the kind's name."""
    return next((b for b in sorted(branches)
                 if (found := policy.kind_of(b)) is not None and found.name == kind), kind)


def merge_fix(source: str, source_kind: BranchKind | None, target: BranchKind,
              policy: Policy, stage: Stage, request: str = "pull request",
              branches: Iterable[str] = ()) -> str:
    """`request` is the forge's word for it: "merge request" on GitLab; `branches` are the
    repository's, so the fix names the real branch of a kind."""
    abort = "git merge --abort && " if stage in (Stage.PRE_MERGE_COMMIT, Stage.PRE_COMMIT) else ""
    if source_kind is not None and source_kind.into:
        into = branch_of_kind(source_kind.into[0], policy, branches)
        if stage is Stage.CI:
            return f"retarget the {request} from {shell_word(source)} to {shell_word(into)}"
        return f"{abort}git switch {shell_word(into)} && git merge --no-ff {shell_word(source)}"
    carrier = next((k for k in policy.sources_for(target)
                    if source_kind is not None and source_kind.name in k.origins), None)
    if carrier is not None:
        topic = source.rsplit("/", 1)[-1] or "topic"
        name = f"{carrier.name}/{topic}"
        if stage is Stage.CI:
            return (f"send the {request} from a {carrier.name} branch made from "
                    f"{shell_word(source)} instead")
        found = policy.kind_of(name)
        if found is None or found.name != carrier.name:  # a release needs a version you choose
            return (f"{abort.removesuffix(' && ')}  # then " if abort else "") + (
                f"create a {carrier.name} branch from {shell_word(source)} (git switch -c "
                f"{carrier.name}/<name> {shell_word(source)}) and merge it instead")
        return f"{abort}git switch -c {shell_word(name)} {shell_word(source)}  # then merge " \
            f"{shell_word(name)} instead"
    if stage is Stage.CI:
        return f"close the {request}: merge a {policy.accepted_sources(target)} branch instead"
    abort = abort.removesuffix(" && ")
    return (f"{abort}  # then merge a {policy.accepted_sources(target)} branch instead"
            if abort else f"merge a {policy.accepted_sources(target)} branch instead")


def frozen_fix(source: str, target: str, stage: Stage, request: str = "pull request") -> str:
    """What to do instead of catching a frozen branch up with `source`."""
    if stage is Stage.CI:
        return f"close this {request}, and bring the change to {target} through a hotfix branch"
    abort = "git merge --abort && " if stage in (Stage.PRE_MERGE_COMMIT, Stage.PRE_COMMIT) \
        else ""
    return (f"{abort}git switch {shell_word(target)}  # and take only the fix, e.g. "
            f"git cherry-pick -x <sha> from {shell_word(source)}")
