"""dvc-not-pushed: the data pushed commits name is in the DVC remote."""
from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from flowwarden.core.records import Event, Push, Severity, Violation
from flowwarden.core.stages import Stage
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import free_name, in_project, path_word, shell_word

if TYPE_CHECKING:
    from flowwarden.adapters.dvc.files import Output
    from flowwarden.adapters.dvc.objects import Missing


class DvcNotPushed(Rule):
    id = "dvc-not-pushed"
    summary = "Data referenced by pushed commits must be in the DVC remote."
    stages = frozenset({Stage.PRE_PUSH, Stage.PRE_RECEIVE, Stage.CI})
    events = (Push,)
    doc = """\
**What**: for the `.dvc` files and `dvc.lock`s that the pushed commits change, checks that
the DVC remote (`data.remote`, else DVC's default remote, or an output's own `remote:`) holds
everything `dvc push` would send for them at the pushed tips. A plain local-directory remote
is read directly; any other remote (version-aware and worktree ones included) is asked through
DVC's own push logic in the dvc library, at the pushed revisions, or through the `dvc` command
when flowwarden's Python cannot import dvc (pre-commit's hook environment; the command checks
the working tree, so the pushed tip must be the one checked out). In CI the DVC config comes
from the revision the push is measured against. Whether an unreachable remote blocks the push
is `data.unreachable_remote` (default `block`).

**Why**: commits whose data never reached the remote cannot be reproduced by anyone
else: their `dvc pull` fails.

**Example**: `git push` before `dvc push` fails with `dvc-not-pushed: data/train.csv
(md5 1a2b3c4d, named in data/train.csv.dvc) is not in DVC remote storage (/srv/dvc);
expected dvc push before git push`.

**Fix**: `dvc push -r storage`, then push again.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if not isinstance(event, Push):
            return
        data = ctx.facts.data
        outputs = data.pushed_files(event).outputs  # malformed files: dvc-file-format's
        # `dvc push` never sends `push: false` outputs nor `dvc import`ed data
        # each DVC project, and within it each output's own remote (`remote:`), apart
        pushed = [out for out in outputs if out.pushed]
        tips = data.pushed_tips(event)
        # a bare repository (the server's) has no work tree: the pushed tip lays projects out
        projects = data.projects_at({o.source for o in pushed}, tips[0]) \
            if ctx.repo.root is None and tips and pushed else {}
        groups: dict[tuple[str, str], list[Output]] = {}
        for out in pushed:
            project = projects.get(out.source)
            groups.setdefault((data.project_of(out.source) if project is None else project,
                               out.remote or ""), []).append(out)
        for (project, remote), outs in sorted(groups.items()):
            yield from self._check_project(ctx, project, remote or None, outs, event)

    @staticmethod
    def _trusted(ctx: Context, push: Push) -> str | None:
        """Where the DVC config that says where the data must be is read, never from the
        incoming commits or the work tree: at the server, the revision whose policy judges the
        push (a protected branch's); in CI, the revision whose policy judges (else the one the
        push is measured against)."""
        if ctx.stage is Stage.PRE_RECEIVE:
            from flowwarden.policy.select import judging_rev

            return judging_rev(ctx.repo, push.updates[0]) if push.updates else None
        if ctx.stage is not Stage.CI:
            return None
        if ctx.judge is not None:
            return ctx.judge
        bases = [u.old for u in push.updates if not u.is_create and not u.is_delete
                 and ctx.repo.has_object(u.old)]
        return bases[0] if bases else None

    def _check_project(self, ctx: Context, project: str, remote: str | None,
                       outputs: Sequence[Output], event: Push) -> Iterator[Violation]:
        # The DVC adapter, on first use: most pushes change no DVC file.
        from flowwarden.adapters.dvc.config import is_local_url
        from flowwarden.adapters.dvc.objects import ObjectStore, find_missing
        from flowwarden.adapters.dvc.remote import plugin_hint, probe
        from flowwarden.core.redact import redact

        data = ctx.facts.data
        config = data.project_config(project, self._trusted(ctx, event))
        cache = data.project_cache(project)
        cd = in_project(project)
        name = remote or ctx.policy.data.remote or config.default_remote
        if (name is None or name not in config.remotes) and ctx.stage is Stage.PRE_RECEIVE:
            yield self._unconfigured(ctx, event, project, name)
            return
        if name is None or name not in config.remotes:
            yield self._no_remote(name, cd)
            return
        url = config.remotes[name]
        options = config.options.get(name, {})
        where = f"DVC remote {name} ({redact(url)})"
        push = f"{cd}dvc push -r {shell_word(name)}"
        top = ctx.repo.root or ctx.repo.git_dir
        versioned = any(options.get(k, "").lower() in ("true", "1", "yes")
                        for k in ("version_aware", "worktree"))
        try:
            if is_local_url(url) and not versioned:
                missing = find_missing(ObjectStore(Path(url)), outputs, [cache])
            else:
                probe(url, options)
                missing = _ask_dvc(top, project, name, data.pushed_tips(event), outputs,
                                   self._trusted(ctx, event), ctx.repo.root is None,
                                   not data.pushed_files(event).broken)
        except ImportError as error:
            package = plugin_hint(error)
            yield self._unreachable(ctx, name, f"{where} needs the Python package {package}, "
                                    "which is not installed", f"pip install {shell_word(package)}")
            return
        except Exception as error:  # noqa: BLE001 - any remote failure means "cannot tell"
            first = redact((str(error).splitlines() or [type(error).__name__])[0])
            if not _cannot_reach(error):  # DVC failing on the pushed content: no pass
                yield self.violation(f"dvc remote {name}", f"{where} could not be checked: "
                                     f"DVC failed on the pushed DVC files ({first})", push)
                return
            yield self._unreachable(ctx, name, f"{where} could not be checked: {first}",
                                    push)
            return
        push, expected = _fix(push, cd, project, versioned, missing, event)
        local = ctx.stage is Stage.PRE_PUSH  # elsewhere this machine's cache says nothing
        for m in missing:
            details = () if not local or cache.has(m.output.md5) else (
                "the local DVC cache lacks it too: re-create it with dvc add / dvc repro, "
                "or fetch it from whoever produced it",)
            yield self.violation(m.output.path, m.describe(where) + expected, push, details,
                                 path=m.output.source)

    def _no_remote(self, name: str | None, cd: str) -> Violation:
        where = " in the DVC project" if cd else ""  # words: no placeholder, no cd
        if name is None:
            return self.violation("dvc remote", "no DVC remote is configured; expected a "
                                  "default remote (or data.remote) to push data to",
                                  "add a default DVC remote where the team keeps its data "
                                  f"(dvc remote add -d storage followed by its URL{where}), "
                                  "then dvc push")
        return self.violation("dvc remote", f"DVC remote {name} is not in DVC's config; "
                              "expected the remote data.remote names",
                              f"add the DVC remote {shell_word(name)} (dvc remote add "
                              f"{shell_word(name)} followed by its URL{where}), then dvc "
                              f"push -r {shell_word(name)}")

    def _unconfigured(self, ctx: Context, push: Push, project: str,
                      name: str | None) -> Violation:
        """At the server, the protected branch's DVC config names no remote: the pushers'
        own (global) config may, the server cannot tell. Without any DVC project there (the
        first feature bringing DVC in), its `.dvc/` lands there first, on its own branch."""
        from flowwarden.policy.select import branch_judge

        trusted = self._trusted(ctx, push)
        dvc_dir = posixpath.join(project, ".dvc")
        tips = ctx.facts.data.pushed_tips(push)
        blobs = ctx.facts.data.blobs([f"{rev}:{dvc_dir}/config" for rev in (trusted, *tips[:1])
                                      if rev is not None])
        branches = ctx.repo.local_branches()
        update = push.updates[0]
        judge = branch_judge(ctx.repo, update.branch, branches, "HEAD") \
            if update.branch else None
        target = judge.origin if judge is not None and judge.origin else "the protected branch"
        label = f"the DVC project {project}" if project else "DVC"
        if blobs.get(f"{trusted}:{dvc_dir}/config") is not None or not tips or \
                blobs.get(f"{tips[0]}:{dvc_dir}/config") is None or update.branch is None:
            return self._unreachable(
                ctx, name or "(default)", f"the server cannot check the DVC data: the DVC "
                f"config committed on {target} ({dvc_dir}/config) names no remote"
                + (f" {name}" if name else "") + "; expected the team's DVC remote there",
                None, (f"Add it to {dvc_dir}/config on {target} through a branch merged "
                       "there: dvc remote add -d, followed by the remote's name and URL, run "
                       "in that DVC project, then committed.",))
        setup = free_name(f"feature/set-up-{'dvc' if not project else project.replace('/', '-')}",
                          branches)
        fix = (f"git fetch origin {shell_word(target)} && git switch -c {shell_word(setup)} "
               f"origin/{shell_word(target)} && git checkout {shell_word(update.branch)} -- "
               f"{shell_word(dvc_dir)} && git commit -m {shell_word(f'Set up {label}')} && "
               f"git push -u origin {shell_word(setup)}")
        return self._unreachable(
            ctx, name or "(default)", f"the server cannot check the DVC data: {target} has "
            f"no DVC project at {dvc_dir}, so nothing the team trusts says which DVC remote "
            "the data belongs in; expected the DVC config on "
            f"{target} before data that needs it", fix,
            (f"The fix puts {dvc_dir} alone on its own branch; once it is merged into "
             f"{target}, push {update.branch} again.",),
            f"or, to accept data the server cannot check, set data.unreachable_remote: warn "
            f"in the policy on {target}.")

    def _unreachable(self, ctx: Context, name: str, message: str, fix: str | None,
                     details: tuple[str, ...] = (), other: str | None = None) -> Violation:
        other = other or _ELSE[ctx.stage]
        if not fix:  # with no fix before it, the alternative is a sentence of its own
            other = other.removeprefix("or, ")
            other = other[:1].upper() + other[1:]
        violation = self.violation(f"dvc remote {name}", message, fix, (*details, other))
        return violation if ctx.policy.data.unreachable_remote == "block" else \
            violation.with_severity(Severity.WARNING)


# What else works where the check runs: FLOWWARDEN_SKIP is read by local hooks only.
_ELSE = {
    Stage.PRE_PUSH: "or skip this check deliberately: FLOWWARDEN_SKIP=dvc-not-pushed git push",
    Stage.CI: "or, where the data cannot be made reachable from CI, set "
              "data.unreachable_remote: warn in the policy on the target branch (or waive "
              "dvc-not-pushed with a Flowwarden-Waive trailer, if the policy allows it)",
    Stage.PRE_RECEIVE: "or, where the server cannot reach the DVC remote, set "
                       "data.unreachable_remote: warn in the policy on the protected branch",
}


def _fix(push: str, cd: str, project: str, versioned: bool, missing: Sequence[Missing],
         event: Push) -> tuple[str, str]:
    """The fix line and the "expected" clause for what is missing from the remote."""
    if versioned and missing:
        # DVC records where a versioned remote keeps each file in the DVC files it pushes
        sources = sorted({posixpath.relpath(m.output.source, project or ".") for m in missing})
        return (push + " && git add " + " ".join(path_word(s) for s in sources) +
                " && git commit -m 'Record the DVC remote version ids'",
                "; expected dvc push, and the version ids it writes into "
                f"{', '.join(sorted({m.output.source for m in missing}))} committed, "
                "before git push")
    exps = sorted({u.ref.rsplit("/", 1)[-1] for u in event.updates
                   if u.ref.startswith("refs/exps/") and not u.is_delete})
    if exps:
        # `dvc exp push` sends the git ref first, which this check refuses: the data must
        # reach the remote before, from a work tree holding the experiment
        push = cd + " && ".join(f"dvc exp apply {shell_word(e)} && {push.removeprefix(cd)}"
                                f" && dvc exp push origin {shell_word(e)}" for e in exps)
    return push, "; expected dvc push before git push"


def _cannot_reach(error: Exception) -> bool:
    """Network, TLS, DNS, authentication or timeout: the remote could not be asked."""
    from flowwarden.adapters.dvc.cloud import unreachable
    from flowwarden.adapters.dvc.remote import CannotCheck

    return isinstance(error, (CannotCheck, LookupError)) or unreachable(error)


def _ask_dvc(top: Path, project: str, name: str, revs: Sequence[str],
             outputs: Sequence[Output], trusted: str | None, bare: bool,
             view: bool = True) -> list[Missing]:
    """Through DVC's own push logic if this Python has the dvc library, else through the
    `dvc` command (pre-commit's hook environment), which sees only the working tree."""
    from flowwarden.adapters.dvc.cloud import not_in_remote
    from flowwarden.adapters.dvc.remote import DVC_DEADLINE, cli_missing, within

    try:
        return within(DVC_DEADLINE, lambda: not_in_remote(top, project, revs, name, outputs,
                                                          trusted, bare, view))
    except ImportError as error:
        if bare or "requires '" in str(error) or (error.name or "").split(".")[0] != "dvc":
            raise  # dvc is there, the remote's plugin is not
    return cli_missing(top, name, outputs, project)


RULE = DvcNotPushed()
