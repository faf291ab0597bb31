"""A guarded server (a bare repository where `flowwarden install` put the real pre-receive
hook), an open server beside it that CI clones, and a developer clone pushing to both."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fwkit import Repo, Result, make_repo


class Site:
    def __init__(self, tmp_path: Path, env: Mapping[str, str]) -> None:
        self.tmp = tmp_path
        self.env = dict(env)
        self.dev = make_repo(tmp_path / "dev", env)
        for name in ("server.git", "open.git"):
            self.dev.git("init", "-q", "--bare", str(tmp_path / name))
        self.server = Repo(tmp_path / "server.git", env)
        installed = self.server.fw("install")
        assert installed.code == 0 and "pre-receive" in installed.out, installed.text
        self.dev.git("remote", "add", "origin", f"file://{tmp_path / 'server.git'}")
        self.dev.git("remote", "add", "open", f"file://{tmp_path / 'open.git'}")
        for remote in ("origin", "open"):
            self.dev.git("push", "-q", remote, "main", "develop")

    def push(self, *args: str, remote: str = "origin") -> Result:
        return self.dev.git("push", remote, *args, check=False)

    def ci_push(self, branch: str, *refspecs: str) -> Result:
        """Push to the open server, then judge the branch's move as `flowwarden ci` in a fresh
        clone of it (every branch as origin/<name>)."""
        before = self.dev.git("ls-remote", "open", f"refs/heads/{branch}").out.split()[0]
        pushed = self.push(*refspecs, remote="open")
        assert pushed.code == 0, pushed.text
        after = self.dev.git("ls-remote", "open", f"refs/heads/{branch}").out.split()[0]
        clone = self.tmp / f"ci-{after[:8]}"
        Repo(self.tmp, self.env).git("clone", "-q", f"file://{self.tmp / 'open.git'}",
                                     clone.name)
        return Repo(clone, self.env).fw("ci", "--range", f"{before}..{after}", "--ref", branch)

    def audit(self) -> Result:
        """`flowwarden audit` of the guarded server's history, in a fresh clone of it."""
        clone = self.tmp / "audit"
        Repo(self.tmp, self.env).git("clone", "-q", f"file://{self.tmp / 'server.git'}",
                                     clone.name)
        return Repo(clone, self.env).fw("audit", "--format", "json")

    def feature(self, name: str = "feature/x", files: int = 1) -> str:
        self.dev.git("switch", "-q", "-c", name, "develop")
        for i in range(files):
            self.dev.commit_file(f"src/{name.rsplit('/', 1)[-1]}_{i}.py", f"x = {i}\n",
                                 f"Add step {i}")
        return self.dev.sha(name)

    def merge(self, into: str, source: str, subject: str) -> str:
        self.dev.git("switch", "-q", into)
        self.dev.git("merge", "-q", "--no-ff", "--no-verify", source, "-m", subject)
        return self.dev.sha(into)


def refused(result: Result, rule: str, *words: str) -> None:
    assert result.code != 0, result.text
    assert rule in result.text, result.text
    for word in words:
        assert word in result.text, f"{word!r} missing:\n{result.text}"


def accepted(result: Result) -> None:
    assert result.code == 0, result.text
