"""`flowwarden demo`: walk the Git Flow in a scratch repository and show every verdict."""
from __future__ import annotations

import re
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


def run_demo(out: TextIO, env: dict[str, str],
             steps: Callable[[], list[Step]] = _steps) -> int:
    demo_env = {k: v for k, v in env.items() if not k.startswith(("GIT_", "FLOWWARDEN_"))}
    demo_env.update({"GIT_AUTHOR_NAME": "Demo", "GIT_AUTHOR_EMAIL": "demo@example.com",
                     "GIT_COMMITTER_NAME": "Demo", "GIT_COMMITTER_EMAIL": "demo@example.com",
                     "GIT_CONFIG_NOSYSTEM": "1", "NO_COLOR": "1"})
    rows = []
    with tempfile.TemporaryDirectory(prefix="flowwarden-demo-") as tmp:
        demo_env["HOME"] = tmp
        repo = _scratch(Path(tmp), demo_env)
        out.write(f"flowwarden demo: a scratch ML repository with flowwarden's hooks "
                  f"({sys.executable} -m flowwarden)\n\n")
        for number, step in enumerate(steps(), 1):
            code, output = 0, ""
            if step.data:
                (repo / step.data).parent.mkdir(parents=True, exist_ok=True)
                (repo / step.data).write_bytes(b"id,feature,label\n" + b"1,0.5,0\n" * 262144)
            for i, args in enumerate(step.commands):
                if step.edit and i == len(step.commands) - 1:
                    (repo / "train.py").write_text(f"EPOCHS = {10 + number}\n")
                code, output = _git(repo, args, demo_env)
            for cleanup in (("reset", "-q", "--hard"), ("clean", "-qfd")):  # what a refusal left
                _git(repo, cleanup, demo_env)
            rules = sorted(set(RULE_LINE.findall(output)))
            verdict = "refused" if code else "allowed"
            ok = (step.expect == "pass" and code == 0) or (step.expect in rules and code != 0)
            rows.append((str(number), step.operation, verdict, ", ".join(rules) or "-",
                         "yes" if ok else "NO"))
    header = ("#", "operation", "verdict", "rule ids", "as expected")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        cells = (cell.ljust(w) for cell, w in zip(row, widths, strict=True))
        out.write("  ".join(cells).rstrip() + "\n")
    failed = [r for r in rows if r[4] != "yes"]
    out.write(f"\n{len(rows) - len(failed)} of {len(rows)} operations judged as the "
              f"gitflow-ml policy says.\n")
    return Exit.VIOLATION if failed else Exit.OK


