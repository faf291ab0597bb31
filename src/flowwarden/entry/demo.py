"""`flowwarden demo`: walk the Git Flow in a scratch repository and show every verdict."""
from __future__ import annotations

import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TextIO

from flowwarden.adapters.git import GitRepo
from flowwarden.core import proc
from flowwarden.core.errors import Exit
from flowwarden.entry.install import install

RULE_LINE = re.compile(r"^(?:error|warning|waived[^:]*): ([a-z0-9-]+):", re.M)


class Step(NamedTuple):
    operation: str
    expect: str  # "pass" or the rule id that must refuse it
    commands: tuple[tuple[str, ...], ...]  # the last one is judged
    edit: bool = False  # change train.py before the judged command (it commits)
    data: str | None = None  # a 2 MiB CSV written at this path before the commands


def _steps() -> list[Step]:
    def c(*args: str) -> tuple[str, ...]:
        return args

    def empty_commit(message: str, *extra: str) -> tuple[str, ...]:
        return ("commit", "-q", "--allow-empty", "-m", message, *extra)

    return [
        Step("commit straight onto develop", "protected-branch",
             (c("switch", "-q", "develop"), c("commit", "-qam", "tune learning rate")), edit=True),
        Step("commit on feature/train-loop", "pass",
             (c("switch", "-qc", "feature/train-loop"), c("commit", "-qam", "add training loop")),
             edit=True),
        Step("commit a 2 MiB CSV to git on the feature", "dvc-untracked-data",
             (c("add", "data/train.csv"), c("commit", "-qm", "add training data")),
             data="data/train.csv"),
        Step("experiment commit that cites no MLflow run", "mlflow-run-id",
             (c("switch", "-qc", "experiment/lr-sweep", "develop"),
              empty_commit("try a lower learning rate"))),
        Step("commit on a badly named branch", "branch-name",
             (c("switch", "-qc", "Fix_Stuff", "develop"), c("commit", "-qam", "misc")), edit=True),
        Step("merge feature/train-loop into main", "merge-target",
             (c("switch", "-q", "main"), c("merge", "--no-ff", "-q", "feature/train-loop"))),
        Step("merge feature/train-loop into develop", "pass",
             (c("switch", "-q", "develop"), c("merge", "--no-ff", "-q", "feature/train-loop"))),
        Step("release/1.0.0 from develop, merged into main", "pass",
             (c("switch", "-qc", "release/1.0.0"), empty_commit("Bump version to 1.0.0"),
              c("switch", "-q", "main"), c("merge", "--no-ff", "-q", "release/1.0.0"))),
        Step("push main, develop and the release", "pass",
             (c("push", "-q", "origin", "main", "develop", "release/1.0.0"),)),
        Step("delete release/1.0.0 before it reached develop", "branch-delete",
             (c("push", "-q", "origin", "--delete", "release/1.0.0"),)),
        Step("merge release/1.0.0 into develop, then delete it", "pass",
             (c("switch", "-q", "develop"), c("merge", "--no-ff", "-q", "release/1.0.0"),
              c("push", "-q", "origin", "develop"),
              c("push", "-q", "origin", "--delete", "release/1.0.0"))),
        Step("hotfix/crash cut from develop, pushed", "branch-origin",
             (c("switch", "-qc", "hotfix/crash", "develop"), empty_commit("Fix crash"),
              c("push", "-q", "origin", "hotfix/crash"))),
        Step("commit on develop with --no-verify, pushed", "protected-history",
             (c("switch", "-q", "develop"), empty_commit("quick fix", "--no-verify"),
              c("push", "-q", "origin", "develop"))),
        Step("force-push a rewritten main", "force-push",
             (c("switch", "-q", "main"), c("reset", "-q", "--hard", "HEAD~1"),
              empty_commit("rewrite", "--no-verify"),
              c("push", "-q", "--force", "origin", "main"))),
    ]


def _git(repo: Path, args: tuple[str, ...], env: dict[str, str]) -> tuple[int, str]:
    """The user's own git command, hooks and all: its exit code and what it printed."""
    code, output = proc.run(["git", *args], cwd=repo, env=env, check=False, merge_stderr=True)
    return code, output.decode("utf-8", "replace")


def _scratch(root: Path, env: dict[str, str]) -> Path:
    remote, repo = root / "remote.git", root / "model-repo"
    _git(root, ("init", "-q", "--bare", "-b", "main", str(remote)), env)
    _git(root, ("init", "-q", "-b", "main", str(repo)), env)
    (repo / "train.py").write_text("EPOCHS = 10\n")
    for args in (("add", "train.py"), ("commit", "-qm", "Initial commit"), ("branch", "develop"),
                 ("remote", "add", "origin", str(remote)), ("push", "-q", "origin", "main"),
                 ("push", "-q", "origin", "develop")):
        _git(repo, args, env)
    install(GitRepo.discover(repo))
    return repo


class Verdict(NamedTuple):
    """One operation as the user saw it: git's exit code and flowwarden's own lines."""

    number: int
    step: Step
    code: int
    rules: tuple[str, ...]
    messages: tuple[str, ...]  # each finding with its details and fix, as printed

    @property
    def as_expected(self) -> bool:
        if self.step.expect == "pass":
            return self.code == 0
        return self.code != 0 and self.step.expect in self.rules


def findings(output: str) -> tuple[str, ...]:
    """flowwarden's findings in a git command's output: each rule line with the indented
    lines (details, fix) under it; git's own lines are left out."""
    found: list[str] = []
    inside = False
    for line in output.splitlines():
        if RULE_LINE.match(line):
            found.append(line)
            inside = True
        elif inside and line.startswith("  "):
            found[-1] += "\n" + line
        else:
            inside = False
    return tuple(found)


def _demo_env(env: dict[str, str], home: str) -> dict[str, str]:
    demo_env = {k: v for k, v in env.items() if not k.startswith(("GIT_", "FLOWWARDEN_"))}
    demo_env.update({"GIT_AUTHOR_NAME": "Demo", "GIT_AUTHOR_EMAIL": "demo@example.com",
                     "GIT_COMMITTER_NAME": "Demo", "GIT_COMMITTER_EMAIL": "demo@example.com",
                     "GIT_CONFIG_NOSYSTEM": "1", "NO_COLOR": "1", "HOME": home})
    return demo_env


def _play(repo: Path, number: int, step: Step, env: dict[str, str]) -> Verdict:
    code, output = 0, ""
    if step.data:
        (repo / step.data).parent.mkdir(parents=True, exist_ok=True)
        (repo / step.data).write_bytes(b"id,feature,label\n" + b"1,0.5,0\n" * 262144)
    for i, args in enumerate(step.commands):
        if step.edit and i == len(step.commands) - 1:
            (repo / "train.py").write_text(f"EPOCHS = {10 + number}\n")
        code, output = _git(repo, args, env)
    for cleanup in (("reset", "-q", "--hard"), ("clean", "-qfd")):  # what a refusal left
        _git(repo, cleanup, env)
    return Verdict(number, step, code, tuple(sorted(set(RULE_LINE.findall(output)))),
                   findings(output))


def run_demo(out: TextIO, env: dict[str, str], fmt: str = "text", keep: bool = False,
             steps: Callable[[], list[Step]] = _steps) -> int:
    """Play every step in a scratch repository; `keep` leaves it behind and says where."""
    tmp = tempfile.mkdtemp(prefix="flowwarden-demo-")
    try:
        demo_env = _demo_env(env, tmp)
        repo = _scratch(Path(tmp), demo_env)
        if fmt == "text":
            out.write(f"flowwarden demo: a scratch ML repository with flowwarden's hooks "
                      f"({sys.executable} -m flowwarden)\n\n")
        verdicts = []
        for number, step in enumerate(steps(), 1):
            verdicts.append(_play(repo, number, step, demo_env))
            if fmt == "text":
                out.write(_text_step(verdicts[-1]))
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    kept = str(repo) if keep else None
    out.write(_json(verdicts, kept) if fmt == "json" else _text_summary(verdicts, kept))
    return Exit.OK if all(v.as_expected for v in verdicts) else Exit.VIOLATION


def _text_step(v: Verdict) -> str:
    verdict = "refused" if v.code else "allowed"
    expected = "as expected" if v.as_expected else f"NOT as expected ({v.step.expect})"
    lines = [f"{v.number:>2}. {v.step.operation}: {verdict}, {expected}",
             f"    $ git {' '.join(shlex.quote(a) for a in v.step.commands[-1])}"]
    lines += ["    " + m.replace("\n", "\n    ") for m in v.messages]
    return "\n".join(lines) + "\n\n"


def _text_summary(verdicts: list[Verdict], kept: str | None) -> str:
    good = sum(v.as_expected for v in verdicts)
    text = f"{good} of {len(verdicts)} operations judged as the gitflow-ml policy says.\n"
    if kept:
        text += f"The scratch repository is kept at {kept} (its remote: {kept}/../remote.git)\n"
    return text


def _json(verdicts: list[Verdict], kept: str | None) -> str:
    import json

    return json.dumps({
        "operations": [{"number": v.number, "operation": v.step.operation,
                        "command": ["git", *v.step.commands[-1]], "expected": v.step.expect,
                        "verdict": "refused" if v.code else "allowed", "exit": v.code,
                        "rules": list(v.rules), "messages": list(v.messages),
                        "as_expected": v.as_expected} for v in verdicts],
        "as_expected": sum(v.as_expected for v in verdicts), "total": len(verdicts),
        "repository": kept}, indent=2) + "\n"
