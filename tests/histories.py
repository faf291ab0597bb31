"""Real-shaped Git Flow histories, written with one `git fast-import` for speed.

The shapes are those of public Git Flow repositories: features merged with git's and the
forges' merge subjects or squash-merged (`Title (#12)`), releases merged into main and merged
back into develop through their tag (git-flow AVH's `release finish`), hotfixes, branches
deleted after their merge, and, on request, forged and spoofed merges.
"""
from __future__ import annotations

import random
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

STAMP = 1_700_000_000
AUTHOR = "Ada <ada@example.com>"


class Shape(NamedTuple):
    """How a generated history looks; the defaults make a small one."""

    features: int = 20  # feature branches, each merged into develop
    commits_per_feature: int = 3
    release_every: int = 5  # a release after every N features
    hotfix_every: int = 3  # a hotfix after every N releases
    squash_every: int = 4  # every Nth feature is squash-merged (0: never)
    github_every: int = 2  # every Nth merge commit has GitHub's subject, the rest git's
    tag_back_merge: bool = True  # releases reach develop as `Merge tag 'x' into develop`
    keep_branches: bool = False  # leave feature refs behind (else deleted after merge)
    fixture_every: int = 0  # every Nth feature adds a small CSV test fixture (0: never)
    seed: int = 7


SMALL = Shape()


class Built(NamedTuple):
    path: Path
    commits: int  # every commit written
    first_parent_merges: int  # merges on main's and develop's first-parent lines
    squashes: int


class _Writer:
    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.mark = 0
        self.time = STAMP
        self.commits = 0

    def commit(self, ref: str, message: str, parents: list[str],
               files: Mapping[str, bytes] | None = None) -> str:
        self.mark += 1
        self.time += 60
        self.commits += 1
        mark = f":{self.mark}"
        raw = message.encode()
        out = [f"commit {ref}".encode(), f"mark {mark}".encode(),
               f"author {AUTHOR} {self.time} +0000".encode(),
               f"committer {AUTHOR} {self.time} +0000".encode(),
               b"data %d" % len(raw), raw]
        if parents:
            out.append(f"from {parents[0]}".encode())
            out += [f"merge {p}".encode() for p in parents[1:]]
        for path, content in (files or {}).items():
            out += [f"M 100644 inline {path}".encode(), b"data %d" % len(content), content]
        self.lines += out
        return mark

    def reset(self, ref: str, mark: str) -> None:
        self.lines += [f"reset {ref}".encode(), f"from {mark}".encode()]

    def tag(self, name: str, mark: str) -> None:
        raw = f"Release {name}".encode()
        self.lines += [f"tag {name}".encode(), f"from {mark}".encode(),
                       f"tagger {AUTHOR} {self.time} +0000".encode(),
                       b"data %d" % len(raw), raw]


def build(path: Path, shape: Shape = SMALL, env: Mapping[str, str] | None = None) -> Built:
    """A repository at `path` whose main and develop follow `shape`."""
    rng = random.Random(shape.seed)
    w = _Writer()
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    main = w.commit("refs/heads/main", "Initial commit", [], {"README.md": b"# project\n"})
    develop = w.commit("refs/heads/develop", "Start develop", [main],
                       {"CHANGELOG.md": b"changes\n"})
    merges = squashes = releases = 0
    version = [0, 1, 0]
    for number in range(1, shape.features + 1):
        name = f"feature/{'Issue' if number % 7 == 0 else 'topic-'}{number}"
        ref = f"refs/heads/{name}"
        tip = develop
        for step in range(shape.commits_per_feature):
            content = f"{number}.{step} {rng.random()}\n".encode()
            tip = w.commit(ref, f"Work on {name} ({step})", [tip],
                           {f"src/mod{number % 50}.py": content})
        if shape.fixture_every and number % shape.fixture_every == 0:
            rows = "".join(f"{i},{rng.random():.6f}\n" for i in range(20)).encode()
            tip = w.commit(ref, f"Add a fixture for {name}", [tip],
                           {f"tests/fixtures/case{number}.csv": b"id,score\n" + rows})
        if shape.squash_every and number % shape.squash_every == 0:
            develop = w.commit("refs/heads/develop", f"Add {name} (#{number})", [develop],
                               {f"src/mod{number % 50}.py": b"squashed\n"})
            squashes += 1
        else:
            subject = (f"Merge pull request #{number} from team/{name}"
                       if shape.github_every and number % shape.github_every == 0
                       else f"Merge branch '{name}' into develop")
            develop = w.commit("refs/heads/develop", subject, [develop, tip])
            merges += 1
        if number % shape.release_every == 0:
            releases += 1
            version[1] += 1
            label = ".".join(map(str, version))
            release = w.commit(f"refs/heads/release/{label}", f"Bump version to {label}",
                               [develop], {"VERSION": label.encode() + b"\n"})
            main = w.commit("refs/heads/main", f"Merge branch 'release/{label}'", [main, release])
            w.tag(label, main)
            back = (f"Merge tag '{label}' into develop" if shape.tag_back_merge
                    else f"Merge branch 'release/{label}' into develop")
            develop = w.commit("refs/heads/develop", back, [develop, main if
                                                            shape.tag_back_merge else release])
            merges += 2
            if shape.hotfix_every and releases % shape.hotfix_every == 0:
                version[2] += 1
                fix = ".".join(map(str, version))
                hot = w.commit(f"refs/heads/hotfix/{fix}", f"Fix crash in {fix}", [main],
                               {"src/crash.py": fix.encode()})
                main = w.commit("refs/heads/main", f"Merge branch 'hotfix/{fix}'", [main, hot])
                develop = w.commit("refs/heads/develop", f"Merge branch 'hotfix/{fix}' into "
                                   "develop", [develop, hot])
                merges += 2
    w.reset("refs/heads/main", main)
    w.reset("refs/heads/develop", develop)
    stream = b"\n".join(w.lines) + b"\ndone\n"
    subprocess.run(["git", "fast-import", "--quiet", "--done"], cwd=path, input=stream,
                   check=True, env=env)
    if not shape.keep_branches:
        refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)", "refs/heads/release",
                               "refs/heads/hotfix", "refs/heads/feature"], cwd=path, env=env,
                              check=True, capture_output=True, text=True).stdout.split()
        if refs:
            subprocess.run(["git", "update-ref", "--stdin"], cwd=path, env=env, check=True,
                           input="".join(f"delete {r}\n" for r in refs).encode())
    subprocess.run(["git", "checkout", "-q", "develop"], cwd=path, check=True, env=env)
    return Built(path, w.commits, merges, squashes)
