"""Test helpers shared by every suite: real git repositories, this checkout's `flowwarden`,
and the real pre-commit framework. Fixtures live in conftest.py; import helpers from here."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SRC = PROJECT / "src"
HOOKS = PROJECT / "hooks"
if str(SRC) not in sys.path:  # in-process tests import this checkout, never an installed copy
    sys.path.insert(0, str(SRC))

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
}


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def clean_env(fw_bin: Path, home: Path) -> dict[str, str]:
    """Fixed identity, no user git config, this flowwarden first on PATH, HOME at `home`."""
    home.mkdir(parents=True, exist_ok=True)
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("GIT_", "FLOWWARDEN_", "PRE_COMMIT", "MLFLOW_", "GITHUB_", "CI"))}
    base.update(GIT_IDENTITY)
    base.update({
        "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "NO_COLOR": "1",
        "PATH": f"{fw_bin}{os.pathsep}{base.get('PATH', '')}",
        "PYTHONPATH": str(SRC),
    })
    return base


def run(cmd: list[str], cwd: Path, env: Mapping[str, str], stdin: str | None = None) -> Result:
    proc = subprocess.run(cmd, cwd=cwd, env=dict(env), input=stdin, capture_output=True,
                          text=True)
    return Result(proc.returncode, proc.stdout, proc.stderr)


class Repo:
    """A real git repository in a temporary directory, driven by the real git command."""

    def __init__(self, path: Path, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = dict(env)

    def git(self, *args: str, check: bool = True, stdin: str | None = None,
            env: Mapping[str, str] | None = None) -> Result:
        result = run(["git", *args], self.path, {**self.env, **(env or {})}, stdin)
        if check and result.code != 0:
            raise AssertionError(f"git {' '.join(args)} failed ({result.code}):\n{result.text}")
        return result

    def fw(self, *args: str, stdin: str | None = None,
           env: Mapping[str, str] | None = None) -> Result:
        return run([sys.executable, "-m", "flowwarden", *args], self.path,
                   {**self.env, **(env or {})}, stdin)

    def write(self, rel: str, content: str | bytes) -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
        return target

    def commit_file(self, rel: str, content: str = "x\n", message: str | None = None,
                    *extra: str) -> Result:
        self.write(rel, content)
        self.git("add", rel)
        return self.git("commit", "-m", message or f"change {rel}", *extra, check=False)

    def sha(self, rev: str = "HEAD") -> str:
        return self.git("rev-parse", rev).out.strip()

    def install_shims(self) -> None:
        """Point git at this checkout's hooks/ directory, as `core.hooksPath` users do."""
        self.git("config", "core.hooksPath", str(HOOKS))


def make_repo(path: Path, env: Mapping[str, str], main: str = "main") -> Repo:
    """A repository with one commit on `main` and `develop` branched from it; no hooks."""
    path.mkdir(parents=True, exist_ok=True)
    repo = Repo(path, env)
    repo.git("init", "-q", "-b", main)
    repo.write("README.md", "# model\n")
    repo.git("add", "README.md")
    repo.git("commit", "-qm", "Initial commit")
    repo.git("branch", "develop")
    return repo


def snapshot_project(dest: Path, env: Mapping[str, str]) -> str:
    """Commit this checkout's working tree into `dest`, for pre-commit's `repo: path, rev: sha`."""
    shutil.copytree(PROJECT, dest, ignore=shutil.ignore_patterns(
        ".git", "__pycache__", "*.egg-info", ".pytest_cache", ".mypy_cache", ".hypothesis",
        "build", "dist", ".venv"))
    snap = Repo(dest, env)
    snap.git("init", "-q", "-b", "main")
    snap.git("add", "-A")
    snap.git("commit", "-qm", "snapshot", "--no-verify")
    return snap.sha()


# --- the real pre-commit framework -------------------------------------------------------

PRE_COMMIT_STAGES = ("pre-commit", "pre-merge-commit", "commit-msg", "prepare-commit-msg",
                     "pre-push", "post-checkout")


@dataclass(frozen=True)
class PreCommitSetup:
    """This checkout as a pre-commit hook repository, its hook env already built once."""

    snapshot: Path
    rev: str
    home: Path  # PRE_COMMIT_HOME shared by every test of the session
    fw_bin: Path  # the test session's own `flowwarden`, kept off PATH

    @property
    def config(self) -> str:
        return self.config_text()

    def config_text(self, verbose: bool = False) -> str:
        """The `.pre-commit-config.yaml` a user writes; `verbose` shows passing hooks' output."""
        extra = "        verbose: true\n" if verbose else ""
        return (f"default_install_hook_types: [{', '.join(PRE_COMMIT_STAGES)}]\n"
                "repos:\n"
                f"  - repo: {self.snapshot}\n"
                f"    rev: {self.rev}\n"
                "    hooks:\n"
                f"      - id: flowwarden\n{extra}"
                f"      - id: flowwarden-commit-msg\n{extra}")

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        """`base` without this checkout on PYTHONPATH or PATH: the hooks must come from
        pre-commit's own virtualenv, as they do for users."""
        env = {k: v for k, v in base.items() if k != "PYTHONPATH"}
        env["PATH"] = os.pathsep.join(p for p in base.get("PATH", "").split(os.pathsep)
                                      if p and Path(p) != self.fw_bin)
        env["PRE_COMMIT_HOME"] = str(self.home)
        return env


def in_terminal(repo: Repo, *git: str, env: Mapping[str, str] | None = None) -> Result:
    """`git ...` under a pseudo-terminal, as a developer types it (`script` gives it one):
    under the pre-commit framework a passing hook's warnings reach only the terminal."""
    import shlex

    return run(["script", "-qec", shlex.join(["git", *git]), "/dev/null"], repo.path,
               {**repo.env, **(env or {})})


def pre_commit(repo: Repo, *args: str) -> Result:
    """Run the real pre-commit framework (`python -m pre_commit`) in `repo`."""
    return run([sys.executable, "-m", "pre_commit", *args], repo.path, repo.env)
