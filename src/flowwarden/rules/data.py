"""Data rules: data and models are versioned with DVC, never committed to git.

The commit-stage rules read DVC's files and cache directly and never hash large files;
only `dvc-not-pushed` may import dvc, and only for a remote that is not a local directory.
Every hook imports this module, so the DVC adapter is imported inside the functions that
need it: a commit that involves no DVC file never loads it.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from flowwarden.adapters.git import Commit, GitRepo, parse_raw_diff
from flowwarden.core.records import CommitAttempt, Event, Push, Severity, StagedFile, Violation
from flowwarden.core.stages import Stage
from flowwarden.rules.base import Context, Rule

if TYPE_CHECKING:
    from flowwarden.adapters import dvc

DEFAULT_PATTERNS = (
    "data/**", "models/**",
    "*.csv", "*.tsv", "*.parquet", "*.feather", "*.arrow", "*.h5", "*.hdf5", "*.npy", "*.npz",
    "*.pkl", "*.pickle", "*.joblib", "*.pt", "*.pth", "*.ckpt", "*.onnx", "*.safetensors",
    "*.tfrecord", "*.zip", "*.tar", "*.tar.gz", "*.tgz", "*.tar.bz2", "*.tar.xz",
)
DEFAULT_EXEMPT = ("*.dvc", "dvc.yaml", "dvc.lock", ".gitignore", ".dvcignore", ".gitkeep",
                  "params.yaml", "README*")
DEFAULT_MAX_SIZE = "1 MiB"
UNITS = {"": 1, "b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2,
         "gb": 1000**3, "gib": 1024**3}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
SYMLINK, GITLINK = "120000", "160000"
LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1"
LFS_POINTER_SIZES = range(120, 1024)  # a pointer's three lines; the LFS spec caps it at 1024
PUSH_STAGES = frozenset({Stage.PRE_PUSH, Stage.PRE_RECEIVE, Stage.CI})


# --- the `data:` policy section --------------------------------------------------------

def parse_size(value: object) -> int | None:
    """`max_size` as bytes: an integer, or a string like "1 MiB"; false disables the limit."""
    if value is False or value is None:
        return None
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match or match.group(2).lower() not in UNITS:
        raise ValueError(f"data.max_size: {value!r} is not a size such as 1048576 or '1 MiB'")
    return int(float(match.group(1)) * UNITS[match.group(2).lower()])


def human_size(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


def glob_regex(pattern: str) -> str:
    """A gitignore-style glob as a regex over repo-relative paths.

    A pattern without an inner slash matches at any depth; `**` crosses directories;
    a match on a directory covers everything under it.
    """
    anchored = "/" in pattern.rstrip("/")
    body = pattern.lstrip("/")
    if body.endswith("/"):
        body += "**"
    out = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "[" and "]" in body[i + 2:]:
            end = body.index("]", i + 2)
            inner = body[i + 1:end]
            out.append("[" + ("^" + inner[1:] if inner.startswith("!") else inner) + "]")
            i = end + 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    return ("" if anchored else "(?:.*/)?") + "".join(out) + "(?:/.*)?"


_WILD = frozenset("*?[")


class _Shape(NamedTuple):
    """A glob of a common shape, tested with plain string operations on a path's lower-cased
    components; equal to `glob_regex(pattern)` for that shape."""

    kind: str  # suffix (`*.csv`), prefix (`README*`), name (`dvc.lock`), under (`data/**`)
    text: str | tuple[str, ...]


def _shape(pattern: str) -> _Shape | None:
    p = pattern.lower()
    if "/" not in p:
        rest = p[1:] if p.startswith("*") else p
        head = rest[:-1] if rest.endswith("*") else rest
        if _WILD & set(head) or (p.startswith("*") and rest.endswith("*")):
            return None
        if p.startswith("*"):
            return _Shape("suffix", head)
        return _Shape("prefix", head) if rest.endswith("*") else _Shape("name", head)
    if p.endswith("/**") and not p.startswith("/") and not _WILD & set(p[:-3]):
        return _Shape("under", tuple(p[:-3].split("/")))
    return None


def _shape_matches(shape: _Shape, parts: list[str]) -> bool:
    if shape.kind == "under":
        prefix = list(shape.text)
        return len(parts) > len(prefix) and parts[:len(prefix)] == prefix
    text = str(shape.text)
    if shape.kind == "suffix":
        return any(c.endswith(text) for c in parts)
    if shape.kind == "prefix":
        return any(c.startswith(text) for c in parts)
    return text in parts


class Matcher:
    """A list of globs; `first` names the pattern that matched. Common shapes are tested
    together as plain strings (compiling two dozen globs into a regex would cost milliseconds
    on every commit), the rest with one regex compiled on first use."""

    __slots__ = ("patterns", "_shapes", "_suffixes", "_prefixes", "_names", "_under",
                 "_complex", "_regex")

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self._shapes = {p: _shape(p) for p in self.patterns}
        shapes = [s for s in self._shapes.values() if s is not None]
        self._suffixes = tuple(str(s.text) for s in shapes if s.kind == "suffix")
        self._prefixes = tuple(str(s.text) for s in shapes if s.kind == "prefix")
        self._names = frozenset(str(s.text) for s in shapes if s.kind == "name")
        self._under = frozenset(s.text[0] for s in shapes if s.kind == "under")
        self._complex = tuple(p for p, s in self._shapes.items() if s is None)
        self._regex: re.Pattern[str] | None = None

    def _maybe_simple(self, parts: list[str]) -> bool:
        """A cheap test that no common-shape pattern can match `parts`."""
        return (parts[0] in self._under or not self._names.isdisjoint(parts)
                or any(c.endswith(self._suffixes) or c.startswith(self._prefixes)
                       for c in parts))

    def first(self, path: str) -> str | None:
        parts = path.lower().split("/")
        if self._maybe_simple(parts):
            for pattern, shape in self._shapes.items():
                if shape is not None and _shape_matches(shape, parts):
                    return pattern
        if not self._complex:
            return None
        if self._regex is None:
            self._regex = re.compile("|".join(f"(?:{glob_regex(p)})" for p in self._complex),
                                     re.I)
        if self._regex.fullmatch(path) is None:
            return None
        return next(p for p in self._complex if re.fullmatch(glob_regex(p), path, re.I))


class DataPolicy(NamedTuple):
    """The `data:` section with the preset's defaults filled in."""

    data: Matcher
    exempt: Matcher
    max_size: int | None
    lfs: str  # allow | report | block
    remote: str | None
    unreachable_remote: str  # block | warn

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> DataPolicy:
        patterns = tuple(section.get("patterns", DEFAULT_PATTERNS))
        exempt = tuple(section.get("exempt", DEFAULT_EXEMPT))
        return cls(
            data=Matcher(patterns + tuple(section.get("extra_patterns", ()))),
            exempt=Matcher(exempt + tuple(section.get("extra_exempt", ()))),
            max_size=parse_size(section.get("max_size", DEFAULT_MAX_SIZE)),
            lfs=str(section.get("lfs", "report")),
            remote=section.get("remote"),
            unreachable_remote=str(section.get("unreachable_remote", "block")),
        )


def data_policy(ctx: Context) -> DataPolicy:
    if "data.policy" not in ctx.cache:
        ctx.cache["data.policy"] = DataPolicy.from_section(ctx.policy.section("data"))
    policy: DataPolicy = ctx.cache["data.policy"]
    return policy


# --- git helpers -----------------------------------------------------------------------

def read_blobs(repo: GitRepo, specs: Sequence[str]) -> dict[str, bytes | None]:
    """Several blobs (`sha`, `rev:path`, `:path`) in one `git cat-file --batch` call."""
    unique = list(dict.fromkeys(specs))
    if not unique:
        return {}
    out = repo.git("cat-file", "--batch",
                   stdin="".join(s + "\n" for s in unique).encode("utf-8", "surrogateescape"))
    result: dict[str, bytes | None] = {}
    pos = 0
    for spec in unique:
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():
            result[spec] = None
            continue
        size = int(header[2])
        result[spec] = out[pos:pos + size] if header[1] == b"blob" else None
        pos += size + 1
    return result


def is_lfs_pointer(blob: bytes) -> bool:
    return blob.startswith(LFS_POINTER_PREFIX)


def index_paths(repo: GitRepo, pathspecs: Sequence[str]) -> list[str]:
    """Paths in the index (GIT_INDEX_FILE honoured) that match `pathspecs`: one git call."""
    out = repo.git("ls-files", "-z", "--cached", "--", *pathspecs)
    return sorted({p for p in out.decode("utf-8", "surrogateescape").split("\0") if p})


def commit_changes(repo: GitRepo, commits: Iterable[Commit]) -> list[tuple[Commit, StagedFile]]:
    """Every non-merge commit's changes against its parent, sized: two git calls in all."""
    by_sha = {c.sha: c for c in commits if not c.is_merge}
    if not by_sha:
        return []
    raw = repo.git("diff-tree", "--stdin", "-r", "-z", "--no-renames", "--root",
                   stdin="".join(s + "\n" for s in by_sha).encode())
    owners: list[Commit] = []
    changes: list[StagedFile] = []
    fields = raw.split(b"\0")
    i = 0
    current: Commit | None = None
    while i < len(fields):
        field = fields[i]
        if field.startswith(b":") and i + 1 < len(fields) and current is not None:
            changes.extend(parse_raw_diff(field + b"\0" + fields[i + 1] + b"\0"))
            owners.append(current)
            i += 2
            continue
        if field:
            current = by_sha.get(field.decode())
        i += 1
    return list(zip(owners, repo.with_sizes(changes), strict=True))


def push_changes(ctx: Context, push: Push) -> list[tuple[Commit, StagedFile]]:
    """What the pushed commits change, once per run for every rule that asks."""
    if "data.push_changes" not in ctx.cache:
        # A ref update can carry anything the environment said (pre-commit's TO_REF);
        # only commits this repository has can be walked.
        updates = [u for u in push.updates if not u.is_delete and ctx.repo.has_object(u.new)]
        commits = {c.sha: c for u in updates for c in ctx.facts.history.new_commits(u, push)}
        ctx.cache["data.push_changes"] = commit_changes(ctx.repo, commits.values())
    found: list[tuple[Commit, StagedFile]] = ctx.cache["data.push_changes"]
    return found


# --- shared helpers --------------------------------------------------------------------

def is_dvc_file(path: str) -> bool:
    name = posixpath.basename(path)
    return name == "dvc.lock" or (name.endswith(".dvc") and name != ".dvc")


def sibling(path: str, name: str) -> str:
    parent = posixpath.dirname(path)
    return posixpath.join(parent, name) if parent else name


def q(path: str) -> str:
    import shlex  # only once a violation is being written

    return shlex.quote(path)


def dvc_ready(repo: GitRepo) -> bool:
    return repo.root is None or (repo.root / ".dvc").is_dir()


def read_outputs(repo: GitRepo, files: Sequence[tuple[str, str]]
                 ) -> tuple[list[dvc.Output], list[tuple[str, str]]]:
    """Outputs named by `.dvc`/`dvc.lock` files given as (path, blob spec); plus unreadable ones.

    A lock's `dvc.yaml` is read from the same revision as the lock (`rev:dir/dvc.yaml`).
    """
    import yaml  # for its error type; the adapter loads it anyway

    from flowwarden.adapters import dvc

    def yaml_spec(path: str, spec: str) -> str:
        rev = spec[:-len(path)] if spec.endswith(path) else ":"
        return rev + sibling(path, "dvc.yaml")

    locks = [(p, s) for p, s in files if posixpath.basename(p) == "dvc.lock"]
    blobs = read_blobs(repo, [s for _, s in files] + [yaml_spec(p, s) for p, s in locks])
    outputs: list[dvc.Output] = []
    broken: list[tuple[str, str]] = []
    for path, spec in files:
        text = blobs.get(spec)
        if text is None:
            continue
        try:
            if posixpath.basename(path) == "dvc.lock":
                pipeline = blobs.get(yaml_spec(path, spec))
                outputs.extend(dvc.parse_lock(text, path, pipeline).outs)
            else:
                outputs.extend(dvc.parse_dvcfile(text, path))
        except yaml.YAMLError as error:
            broken.append((path, str(error).splitlines()[0]))
    return outputs, broken


def staged_outputs(ctx: Context, event: CommitAttempt
                   ) -> tuple[list[dvc.Output], list[tuple[str, str]]]:
    """Outputs named by the staged `.dvc` files and `dvc.lock`s (staged content, not disk)."""
    if "data.staged_outputs" not in ctx.cache:
        files = [(f.path, f.blob) for f in event.staged
                 if f.status != "D" and is_dvc_file(f.path)]
        ctx.cache["data.staged_outputs"] = read_outputs(ctx.repo, files) if files else ([], [])
    found: tuple[list[dvc.Output], list[tuple[str, str]]] = ctx.cache["data.staged_outputs"]
    return found


def index_listing(ctx: Context, event: CommitAttempt) -> list[str]:
    """Staged `dvc.lock`s and index paths under staged outputs, from one `ls-files`."""
    if "data.index" not in ctx.cache:
        outputs, _ = staged_outputs(ctx, event)
        specs = ["dvc.lock", ":(glob)**/dvc.lock", *(":(literal)" + o.path for o in outputs)]
        ctx.cache["data.index"] = index_paths(ctx.repo, specs)
    listed: list[str] = ctx.cache["data.index"]
    return listed


def dvc_config(repo: GitRepo) -> dvc.DvcConfig:
    from flowwarden.adapters import dvc

    root = repo.root or repo.git_dir
    return dvc.read_config(root / ".dvc")


def shown(path: Path, repo: GitRepo) -> str:
    if repo.root is not None and path.is_relative_to(repo.root):
        return str(path.relative_to(repo.root))
    return str(path)


def missing_message(m: dvc.Missing, where: str) -> str:
    out = m.output
    if m.whole and out.is_dir:
        return (f"{out.path}/ (directory manifest {out.md5[:8]}.dir, named in {out.source}) "
                f"is not in {where}")
    if m.whole:
        return f"{out.path} (md5 {out.md5[:8]}, named in {out.source}) is not in {where}"
    sample = ", ".join(m.missing[:3]) + (", ..." if len(m.missing) > 3 else "")
    return (f"{out.path}/: {len(m.missing)} of {m.total - 1} files named in {out.source} "
            f"are not in {where} (e.g. {sample})")


# --- dvc-untracked-data ----------------------------------------------------------------

class UntrackedData(Rule):
    id = "dvc-untracked-data"
    summary = "Data and model files go to DVC, not git (by path pattern, extension or size)."
    stages = frozenset({Stage.PRE_COMMIT}) | PUSH_STAGES
    events = (CommitAttempt, Push)
    doc = """\
**What**: refuses a staged file (or, for a push, a file in any pushed commit) that is data
or a model artifact: it matches `data.patterns` (by default `data/**`, `models/**` and the
usual data and model extensions) or its staged blob is larger than `data.max_size`
(default 1 MiB). `data.exempt` lists what is never data (`*.dvc`, `dvc.lock`, READMEs, ...).
A Git LFS pointer is reported according to `data.lfs`.

**Why**: a dataset committed to git stays in its history forever: every clone downloads
it, and removing it means rewriting history. DVC keeps the data out of git and a small
`.dvc` file in it.

**Example**: `git add data/train.csv && git commit` fails with
`dvc-untracked-data: data/train.csv is staged into git (matches data/**, 12 KiB);
expected data and models to be versioned with DVC, not git`.

**Fix**: `git rm --cached data/train.csv && dvc add data/train.csv &&
git add data/train.csv.dvc data/.gitignore` (run `dvc init` first in a repository
without DVC).
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        files: list[tuple[Commit | None, StagedFile]]
        if isinstance(event, CommitAttempt):
            files = [(None, f) for f in event.staged]
        elif isinstance(event, Push):
            files = list(push_changes(ctx, event))
        else:
            return
        policy = data_policy(ctx)
        candidates = [(c, f) for c, f in files
                      if f.status != "D" and f.mode not in (SYMLINK, GITLINK)
                      and policy.exempt.first(f.path) is None]
        pointers = self._lfs_pointers(ctx, policy, [f for _, f in candidates])
        ready = dvc_ready(ctx.repo)
        for commit, f in candidates:
            if f.blob in pointers:
                if policy.lfs != "allow":
                    yield self._lfs(f, commit, policy)
                continue
            reasons = []
            pattern = policy.data.first(f.path)
            if pattern is not None:
                reasons.append(f"matches {pattern}")
            if policy.max_size is not None and f.size > policy.max_size:
                reasons.append(f"{human_size(f.size)}, over the "
                               f"{human_size(policy.max_size)} limit")
            elif reasons:
                reasons.append(human_size(f.size))
            if reasons:
                yield self._data(f, commit, ", ".join(reasons), ready)

    def _lfs_pointers(self, ctx: Context, policy: DataPolicy,
                      files: Sequence[StagedFile]) -> set[str]:
        """Blob shas among `files` that are Git LFS pointers (small blobs only are read)."""
        small = [f.blob for f in files if f.size in LFS_POINTER_SIZES
                 and (policy.lfs != "allow" or policy.data.first(f.path) is not None)]
        blobs = read_blobs(ctx.repo, small) if small else {}
        return {sha for sha, blob in blobs.items() if blob and is_lfs_pointer(blob)}

    def _data(self, f: StagedFile, commit: Commit | None, reasons: str,
              ready: bool) -> Violation:
        path = q(f.path)
        redo = (f"git rm --cached {path} && dvc add {path} && "
                f"git add {q(f.path + '.dvc')} {q(sibling(f.path, '.gitignore'))}")
        if not ready:
            redo = "dvc init && " + redo
        if commit is None:
            return self.violation(
                f.path, f"{f.path} is staged into git ({reasons}); expected data and models "
                "to be versioned with DVC, not git", redo,
                () if ready else ("this repository does not use DVC yet: `dvc init` sets it up",))
        return self.violation(
            f"{commit.sha[:7]}:{f.path}",
            f"{f.path} is committed to git in {commit.sha[:7]} ({reasons}); expected data "
            "and models to be versioned with DVC, not git", rewrite(commit, redo))

    def _lfs(self, f: StagedFile, commit: Commit | None, policy: DataPolicy) -> Violation:
        path = q(f.path)
        redo = (f"git rm --cached {path} && git lfs untrack {path} && dvc add {path} && "
                f"git add .gitattributes {q(f.path + '.dvc')} {q(sibling(f.path, '.gitignore'))}")
        where = "staged" if commit is None else f"committed in {commit.sha[:7]}"
        violation = self.violation(
            f.path if commit is None else f"{commit.sha[:7]}:{f.path}",
            f"{f.path} is {where} as a Git LFS pointer; this policy versions data with DVC "
            f"(data.lfs: {policy.lfs})", redo if commit is None else rewrite(commit, redo))
        return violation if policy.lfs == "block" else violation.with_severity(Severity.WARNING)


def rewrite(commit: Commit, redo: str) -> str:
    base = f"{commit.sha[:7]}~1" if commit.parents else "--root"
    return (f"git rebase -i {base}  (mark {commit.sha[:7]} as edit), then: {redo} && "
            "git commit --amend --no-edit && git rebase --continue")


# --- dvc-missing-cache -----------------------------------------------------------------

class MissingCache(Rule):
    id = "dvc-missing-cache"
    summary = "Outputs named by staged .dvc files and dvc.lock must be in the DVC cache."
    stages = frozenset({Stage.PRE_COMMIT})
    events = (CommitAttempt,)
    doc = """\
**What**: for every staged `.dvc` file and `dvc.lock`, checks that the DVC cache holds
each output's object, and for a directory its `.dir` manifest and every file it lists
(`cache.dir` from `.dvc/config` and `.dvc/config.local` is honoured; DVC 3 and DVC 2
cache layouts).

**Why**: a `.dvc` file whose data is in nobody's cache points at nothing: `dvc push`
has nothing to send and teammates' `dvc pull` fails.

**Example**: after `dvc gc` removed an object, committing `data/train.csv.dvc` fails with
`dvc-missing-cache: data/train.csv (md5 1a2b3c4d, named in data/train.csv.dvc) is not in
the DVC cache .dvc/cache`.

**Fix**: `dvc commit -f data/train.csv.dvc` (re-caches the workspace copy; `dvc add` does
too), or for a pipeline output `dvc commit -f <stage>`; if only the remote has it,
`dvc fetch data/train.csv.dvc`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if not isinstance(event, CommitAttempt):
            return
        if not any(f.status != "D" and is_dvc_file(f.path) for f in event.staged):
            return  # most commits: no DVC file staged, nothing to load
        from flowwarden.adapters import dvc

        outputs, broken = staged_outputs(ctx, event)
        for path, error in broken:
            yield self.violation(path, f"{path} is not a readable DVC file ({error}); "
                                 "expected the YAML DVC writes", f"git restore --staged {q(path)}")
        if not outputs:
            return
        cache = dvc_config(ctx.repo).cache_dir
        where = f"the DVC cache {shown(cache, ctx.repo)}"
        for m in dvc.find_missing(dvc.ObjectStore(cache), outputs):
            target = q(m.output.stage or m.output.source)
            yield self.violation(
                m.output.path, missing_message(m, where),
                f"dvc commit -f {target} && git add {q(m.output.source)}",
                (f"if only the DVC remote has the data: dvc fetch {target}",))


# --- dvc-not-ignored -------------------------------------------------------------------

class NotIgnored(Rule):
    id = "dvc-not-ignored"
    summary = "Outputs DVC tracks must be gitignored and not tracked by git as well."
    stages = frozenset({Stage.PRE_COMMIT})
    events = (CommitAttempt,)
    doc = """\
**What**: for every output of a staged `.dvc` file or `dvc.lock` (outputs declared
`cache: false` excepted), checks that git ignores the path and that the index does not
hold it.

**Why**: an output that is not ignored is one `git add -A` away from being committed to
git next to its `.dvc` file; one that is tracked by both is stored twice and the two copies
drift.

**Example**: `dvc-not-ignored: data/train.csv is an output of data/train.csv.dvc but is not
gitignored; expected an entry /train.csv in data/.gitignore`.

**Fix**: `echo /train.csv >> data/.gitignore && git add data/.gitignore` (this is what
`dvc add` writes); for a tracked copy, `git rm -r --cached data/train.csv`.
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if not isinstance(event, CommitAttempt):
            return
        outputs, _ = staged_outputs(ctx, event)
        if not outputs:
            return
        from flowwarden.adapters import dvc

        paths = [o.path for o in outputs]
        ignored = dvc.ignored_paths(ctx.repo, paths)
        tracked = dvc.covered(index_listing(ctx, event), paths)
        for out in outputs:
            if out.path in tracked:
                yield self.violation(
                    out.path, f"{out.path} is tracked by git as well as by DVC "
                    f"({out.source}); expected DVC alone to track it",
                    f"git rm -r --cached {q(out.path)}")
            if out.path not in ignored:
                entry = "/" + posixpath.basename(out.path)
                gitignore = sibling(out.path, ".gitignore")
                yield self.violation(
                    out.path, f"{out.path} is an output of {out.source} but is not gitignored; "
                    f"expected an entry {entry} in {gitignore}",
                    f"echo {q(entry)} >> {q(gitignore)} && git add {q(gitignore)}")


# --- dvc-stale-pipeline ----------------------------------------------------------------

class StalePipeline(Rule):
    id = "dvc-stale-pipeline"
    summary = "Staged changes to a pipeline's dependencies need dvc repro to update dvc.lock."
    stages = frozenset({Stage.PRE_COMMIT})
    events = (CommitAttempt,)
    default_severity = Severity.WARNING
    doc = """\
**What**: warns when a staged change touches a git-tracked dependency (a file, a file in a
dependency directory, or a parameter) of a `dvc.yaml` stage while the staged `dvc.lock`
still records the old content.

**Why**: the committed outputs then no longer follow from the committed code and
parameters: the commit claims a result it did not produce.

**Example**: editing `train.py` and committing without re-running warns
`dvc-stale-pipeline: stage train: train.py changed (dvc.lock records md5 92fef88b);
expected dvc.lock to match the staged dependencies`.

**Fix**: `dvc repro train && git add dvc.lock` (and commit the outputs with it).
"""

    def check(self, event: Event, ctx: Context) -> Iterator[Violation]:
        if not isinstance(event, CommitAttempt):
            return
        staged = {f.path: f for f in event.staged if f.mode not in (SYMLINK, GITLINK)}
        if not staged or not dvc_ready(ctx.repo):
            return  # without `.dvc/` there is no pipeline whose lock could go stale
        lock_paths = [p for p in index_listing(ctx, event)
                      if posixpath.basename(p) == "dvc.lock"]
        if not lock_paths:
            return
        from flowwarden.adapters import dvc

        yamls = {p: ":" + sibling(p, "dvc.yaml") for p in lock_paths}
        blobs = read_blobs(ctx.repo, [":" + p for p in lock_paths] + list(yamls.values()))
        locks = [dvc.parse_lock(blobs[":" + p] or b"", p, blobs.get(yamls[p]))
                 for p in lock_paths if blobs.get(":" + p)]
        deps = [d for lock in locks for d in lock.deps if d.md5]
        params = [p for lock in locks for p in lock.params if p.file in staged]
        contents = self._staged_contents(ctx, staged, deps, params)
        changed: dict[tuple[str, str], list[str]] = {}
        for dep in deps:
            for note in self._dep_changes(ctx, dep, staged, contents):
                changed.setdefault((dep.lock, dep.stage), []).append(note)
        for entry in params:
            for note in self._param_changes(entry, staged[entry.file], contents):
                changed.setdefault((entry.lock, entry.stage), []).append(note)
        for (lock, stage), notes in changed.items():
            target = stage if posixpath.dirname(lock) == "" else \
                f"{sibling(lock, 'dvc.yaml')}:{stage}"
            yield self.violation(
                f"{stage} ({lock})",
                f"stage {stage}: {'; '.join(notes)}; expected {lock} to match the staged "
                "dependencies", f"dvc repro {q(target)} && git add {q(lock)}")

    def _staged_contents(self, ctx: Context, staged: Mapping[str, StagedFile],
                         deps: Sequence[dvc.Dependency],
                         params: Sequence[dvc.LockParams]) -> Mapping[str, bytes | None]:
        """Staged blobs of the dependencies and params files in the change: one git call."""
        files = {d.path for d in deps} | {p.file for p in params}
        dirs = tuple(d.path + "/" for d in deps if d.md5 and d.md5.endswith(".dir"))
        wanted = [f.blob for path, f in staged.items() if f.status != "D"
                  and (path in files or path.startswith(dirs))]
        return read_blobs(ctx.repo, wanted) if wanted else {}

    def _dep_changes(self, ctx: Context, dep: dvc.Dependency, staged: Mapping[str, StagedFile],
                     contents: Mapping[str, bytes | None]) -> Iterator[str]:
        if dep.md5 is None:
            return
        if not dep.md5.endswith(".dir"):
            f = staged.get(dep.path)
            if f is not None and self._differs(f, dep.md5, dep.legacy, contents):
                yield f"{dep.path} changed ({dep.lock} records md5 {dep.md5[:8]})"
            return
        inside = [f for p, f in staged.items() if p.startswith(dep.path + "/")]
        if not inside:
            return
        from flowwarden.adapters import dvc

        manifest = dvc.ObjectStore(dvc_config(ctx.repo).cache_dir).manifest(dep.md5)
        recorded = dict(manifest or ())
        for f in inside:
            rel = f.path[len(dep.path) + 1:]
            if manifest is None or rel not in recorded or \
                    self._differs(f, recorded[rel], dep.legacy, contents):
                yield f"{f.path} in dependency {dep.path}/ changed"

    def _differs(self, f: StagedFile, md5: str, legacy: bool,
                 contents: Mapping[str, bytes | None]) -> bool:
        from flowwarden.adapters import dvc

        blob = contents.get(f.blob) if f.status != "D" else None
        return blob is None or dvc.md5_of_blob(blob, legacy) != md5

    def _param_changes(self, params: dvc.LockParams, f: StagedFile,
                       contents: Mapping[str, bytes | None]) -> Iterator[str]:
        from flowwarden.adapters import dvc

        blob = contents.get(f.blob) if f.status != "D" else None
        doc = dvc.load_yaml(blob) if blob else None
        for key, old in params.values.items():
            found, new = dvc.param_value(doc, key)
            if not found or new != old:
                now = repr(new) if found else "removed"
                yield f"{params.file}:{key} is {now} ({params.lock} records {old!r})"


# --- dvc-not-pushed --------------------------------------------------------------------

class NotPushed(Rule):
    id = "dvc-not-pushed"
    summary = "Data referenced by pushed commits must be in the DVC remote."
    stages = frozenset({Stage.PRE_PUSH, Stage.CI})
    events = (Push,)
    doc = """\
**What**: for the `.dvc` files and `dvc.lock`s that the pushed commits change, checks that
the DVC remote (`data.remote`, else DVC's default remote) holds every object they name at
the pushed tips. A local-directory remote is read directly; any other remote is asked
through the dvc library, or through the `dvc` command when flowwarden's Python cannot
import dvc (pre-commit's hook environment; the command checks the working tree, so the
pushed tip must be the one checked out). Whether an unreachable remote blocks the push is
`data.unreachable_remote` (default `block`).

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
        outputs = self._pushed_outputs(ctx, event)
        if not outputs:
            return
        from flowwarden.adapters import dvc

        config = dvc_config(ctx.repo)
        policy = data_policy(ctx)
        name = policy.remote or config.default_remote
        if name is None or name not in config.remotes:
            yield self._no_remote(name)
            return
        url = config.remotes[name]
        cache = dvc.ObjectStore(config.cache_dir)
        where = f"DVC remote {name} ({url})"
        try:
            if dvc.is_local_url(url):
                missing = dvc.find_missing(dvc.ObjectStore(Path(url)), outputs, [cache])
            else:
                dvc.probe(url)
                missing = self._ask_remote(ctx, name, outputs, cache)
        except ImportError as error:
            package = dvc.plugin_hint(error)
            yield self._unreachable(policy, name, f"{where} needs the Python package {package}, "
                                    "which is not installed", f"pip install {package}")
            return
        except Exception as error:  # noqa: BLE001 - any remote failure means "cannot tell"
            first = (str(error).splitlines() or [type(error).__name__])[0]
            yield self._unreachable(policy, name, f"{where} could not be checked: {first}",
                                    f"dvc push -r {q(name)}")
            return
        for m in missing:
            details = () if cache.has(m.output.md5) else (
                "the local DVC cache lacks it too: re-create it with dvc add / dvc repro, "
                "or fetch it from whoever produced it",)
            yield self.violation(m.output.path, missing_message(m, where) +
                                 "; expected dvc push before git push",
                                 f"dvc push -r {q(name)}", details)

    def _ask_remote(self, ctx: Context, name: str, outputs: list[dvc.Output],
                    cache: dvc.ObjectStore) -> list[dvc.Missing]:
        """Through the dvc library if this Python has it, else through the `dvc` command."""
        from flowwarden.adapters import dvc

        root = ctx.repo.root or ctx.repo.git_dir
        try:
            return dvc.remote_missing(root, name, outputs, [cache])
        except ImportError as error:
            if "requires '" in str(error):
                raise  # dvc is there, the remote's plugin is not
        return dvc.cli_missing(root, name, outputs)

    def _pushed_outputs(self, ctx: Context, push: Push) -> list[dvc.Output]:
        """Outputs named at the pushed tips by the DVC files the pushed commits changed."""
        changed = {f.path for _, f in push_changes(ctx, push) if is_dvc_file(f.path)}
        if not changed:
            return []
        files = [(p, f"{u.new}:{p}") for u in push.updates
                 if not u.is_delete and ctx.repo.has_object(u.new) for p in sorted(changed)]
        outputs, _ = read_outputs(ctx.repo, files)
        return list({(o.md5, o.path): o for o in outputs}.values())

    def _no_remote(self, name: str | None) -> Violation:
        if name is None:
            return self.violation("dvc remote", "no DVC remote is configured; expected a "
                                  "default remote (or data.remote) to push data to",
                                  "dvc remote add -d storage <url> && dvc push")
        return self.violation("dvc remote", f"DVC remote {name} is not in .dvc/config; "
                              "expected the remote data.remote names",
                              f"dvc remote add {q(name)} <url> && dvc push -r {q(name)}")

    def _unreachable(self, policy: DataPolicy, name: str, message: str,
                     fix: str) -> Violation:
        violation = self.violation(
            f"dvc remote {name}", message, fix,
            ("or skip this check deliberately: FLOWWARDEN_SKIP=dvc-not-pushed git push",))
        return violation if policy.unreachable_remote == "block" else \
            violation.with_severity(Severity.WARNING)
