"""A scratch git repository in a temporary folder, where `flowwarden test` builds the
history a case describes and the events it judges. Real git, isolated from the user's
configuration: nothing of theirs (hooks, templates, signing) takes part."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from flowwarden.adapters.git import GitRepo
from flowwarden.core.errors import UsageError
from flowwarden.core.proc import CommandError
from flowwarden.core.records import ZERO_SHA, Event, Push, RefUpdate
from flowwarden.core.stages import Stage
from flowwarden.entry.cases import Step, Update
from flowwarden.entry.hook import HookCall, build_events

ROOT_LABEL = "root"  # the first commit, on main; develop starts there too


def scratch_env(base: Mapping[str, str], home: Path) -> dict[str, str]:
    """The environment the scratch repository and the rules see: git's identity and a fixed
    date, an empty home, no user or system git configuration, none of the caller's flowwarden,
    DVC or MLflow settings."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: base[k] for k in ("PATH", "SYSTEMROOT", "TMPDIR") if k in base}
    stamp = "1700000000 +0000"
    env.update(GIT_AUTHOR_NAME="flowwarden test", GIT_AUTHOR_EMAIL="test@flowwarden.invalid",
               GIT_COMMITTER_NAME="flowwarden test",
               GIT_COMMITTER_EMAIL="test@flowwarden.invalid",
               GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp, GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL=os.devnull, HOME=str(home),
               XDG_CONFIG_HOME=str(home / ".config"), LC_ALL="C")
    return env


class StepError(UsageError):
    """A history step git refused (a branch that does not exist, a conflicting merge)."""


class Scratch:
    """One case's repository: `main` and `develop` at a root commit labelled `root`."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.env = env
        self._git = GitRepo(path, path / ".git", path / ".git", env)
        self.labels: dict[str, str] = {}
        self.git("init", "-q", "-b", "main")
        self.git("commit", "-q", "--allow-empty", "-m", "root")
        self.labels[ROOT_LABEL] = self.sha("HEAD")
        self.git("branch", "develop")

    def git(self, *args: str) -> str:
        return self._git.git("-c", "commit.gpgsign=false", *args).decode("utf-8", "replace")

    def sha(self, rev: str) -> str:
        return self.git("rev-parse", "--verify", "-q", rev + "^{commit}").strip()

    def resolve(self, name: str) -> str | None:
        """A label, else a branch of the history; None when it is neither."""
        if name in self.labels:
            return self.labels[name]
        ok = self._git.git_ok("rev-parse", "--verify", "-q", f"refs/heads/{name}^{{commit}}")
        return self.sha(f"refs/heads/{name}") if ok else None

    def repo(self) -> GitRepo:
        """A fresh view of the repository, as the judged operation sees it."""
        return GitRepo.discover(self.path, self.env)

    # --- history --------------------------------------------------------------

    def build(self, steps: Sequence[Step], file: str) -> None:
        for step in steps:
            try:
                self._step(step)
            except (CommandError, StepError) as exc:
                raise StepError(f"{file}:{step.line}: history step {step.action} "
                                f"{step.name}: {exc}") from None

    def _step(self, step: Step) -> None:
        assert step.name is not None
        if step.action == "branch":
            self.git("branch", "--", step.name, self._rev(step.on or ROOT_LABEL))
        elif step.action == "delete":
            self.git("switch", "-q", "--detach")
            self.git("branch", "-D", "--", step.name)
        elif step.action == "commit":
            assert step.on is not None
            self.switch(step.on)
            self.stage(step.files)
            self.git("commit", "-q", "--allow-empty", "-m", step.message or step.name)
            self.labels[step.name] = self.sha("HEAD")
        else:  # merge
            assert step.on is not None
            self.switch(step.on)
            message = ["-m", step.message] if step.message else ["--no-edit"]
            self.git("merge", "-q", "--no-ff", *message, self._rev(step.name))
            if step.label:
                self.labels[step.label] = self.sha("HEAD")

    def _rev(self, name: str) -> str:
        sha = self.resolve(name)
        if sha is None:
            raise StepError(f"'{name}' is neither a label nor a branch of the history")
        return sha if name in self.labels else f"refs/heads/{name}"

    def switch(self, branch: str) -> None:
        """Check `branch` out, creating it at the root commit when it does not exist."""
        if not self._git.git_ok("rev-parse", "--verify", "-q", f"refs/heads/{branch}"):
            self.git("switch", "-q", "-c", branch, self.labels[ROOT_LABEL])
        else:
            self.git("switch", "-q", branch)

    def stage(self, files: Sequence[tuple[str, int]]) -> None:
        for rel, size in files:
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((rel.encode() * (size // max(len(rel), 1) + 1))[:size])
        if files:
            self.git("add", "-f", "--", *[rel for rel, _ in files])

    # --- the judged operation --------------------------------------------------

    def commit_events(self, branch: str, files: Sequence[tuple[str, int]],
                      message: str | None) -> list[tuple[Stage, Event]]:
        """What git's pre-commit (and commit-msg) hooks would judge for this commit."""
        self.switch(branch)
        self.stage(files)
        repo = self.repo()
        events = [(Stage.PRE_COMMIT, e)
                  for e in build_events(HookCall(Stage.PRE_COMMIT, (), b"", self.env), repo)]
        if message is not None:
            path = self.path / ".git" / "COMMIT_EDITMSG"
            path.write_text(message, encoding="utf-8")
            call = HookCall(Stage.COMMIT_MSG, (str(path),), b"", self.env)
            events += [(Stage.COMMIT_MSG, e) for e in build_events(call, repo)]
        return events

    def push_event(self, updates: Sequence[Update]) -> Push:
        """The push as the server receives it: each pushed branch set back to `old` first."""
        resolved = [(u, self._sha_or_zero(u.old), self._sha_or_zero(u.new)) for u in updates]
        self.git("switch", "-q", "--detach")
        out = []
        for update, old, new in resolved:
            ref = f"refs/heads/{update.branch}"
            if old == ZERO_SHA:
                self._git.git_ok("update-ref", "-d", ref)
            else:
                self.git("update-ref", ref, old)
            out.append(RefUpdate(ref, old, new))
        return Push(tuple(out))

    def _sha_or_zero(self, name: str | None) -> str:
        if name is None:
            return ZERO_SHA
        sha = self.resolve(name)
        if sha is None:
            raise StepError(f"'{name}' is neither a label nor a branch of the history")
        return sha
