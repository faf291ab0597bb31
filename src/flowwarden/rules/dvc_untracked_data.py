"""dvc-untracked-data: data and model files go to DVC, not git."""
from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence

from flowwarden.adapters.dvc.paths import repo_path, sibling
from flowwarden.adapters.git import UNKNOWN_SIZE, Commit
from flowwarden.adapters.git.plumbing import GITLINK, SYMLINK
from flowwarden.core.records import CommitAttempt, Event, Push, Severity, StagedFile, Violation
from flowwarden.core.stages import PUSH_STAGES, Stage
from flowwarden.facts.data import LFS_POINTER_SIZES
from flowwarden.policy.data import DataPolicy, human_size
from flowwarden.rules.base import Context, Rule
from flowwarden.rules.fixes import in_project, path_word, shell_word


class DvcUntrackedData(Rule):
    id = "dvc-untracked-data"
    summary = "Data and model files go to DVC, not git (by path pattern, extension or size)."
    stages = frozenset({Stage.PRE_COMMIT}) | PUSH_STAGES
    events = (CommitAttempt, Push)
    doc = """\
**What**: refuses a staged file (or, for a push, a file in any pushed commit) that is data
or a model artifact: it matches `data.patterns` (by default `data/**`, `models/**` and the
usual data and model extensions) or its staged blob is larger than `data.max_size`
(default 1 MiB). `data.exempt` lists what is never data (`*.dvc`, `dvc.lock`, READMEs, ...).
Where tests, docs and examples keep their files (`data.fixtures`: `tests/**`, `docs/**`,
`**/fixtures/**`, ...) only size makes a file data, over `data.fixture_max_size` (10 MiB): a
4 KiB CSV fixture is not data, a 40 MB parquet file is, wherever it sits. In a partial clone
a blob it lacks is never fetched: its size is unknown, and only the patterns judge it.
A Git LFS pointer is reported according to `data.lfs`. An MLflow tracking store
(`mlflow.db`, `mlruns/`, `mlartifacts/`, outside `data.fixtures`) is refused whatever its
size, and the fix untracks and ignores it instead of moving it to DVC.

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
        files: Sequence[tuple[Commit | None, StagedFile]]
        if isinstance(event, CommitAttempt):
            files = [(None, f) for f in event.staged]
        elif isinstance(event, Push):
            files = ctx.facts.data.push_changes(event)
        else:
            return
        policy = ctx.policy.data
        candidates = [(c, f) for c, f in files
                      if f.status != "D" and f.mode not in (SYMLINK, GITLINK)
                      and policy.exempt.first(f.path) is None]
        # Only small blobs can be LFS pointers, and only those worth reporting are read.
        small = [f.blob for _, f in candidates if f.size in LFS_POINTER_SIZES
                 and (policy.lfs != "allow" or policy.data.first(f.path) is not None)]
        pointers = ctx.facts.data.lfs_pointers(small) if small else frozenset()
        stores: set[tuple[str | None, str]] = set()  # one finding per store and commit
        for commit, f in candidates:
            store = None if policy.fixtures.first(f.path) else tracking_store(f.path)
            if store is not None:
                if (commit and commit.sha, store) not in stores:
                    stores.add((commit and commit.sha, store))
                    yield self._store(f, store, commit)
                continue
            if f.blob in pointers:
                if policy.lfs != "allow":
                    yield self._lfs(f, commit, policy)
                continue
            reasons = _reasons(f, policy)
            if reasons:
                yield self._data(ctx, f, commit, reasons)

    def _data(self, ctx: Context, f: StagedFile, commit: Commit | None,
              reasons: str) -> Violation:
        data = ctx.facts.data
        project = data.project_of(f.path)
        ready = bool(project) or data.dvc_ready
        redo = _redo(ctx, f.path, project, commit)
        if not ready:
            redo = "dvc init && " + redo
        if commit is None:
            return self.violation(
                f.path, f"{f.path} is staged into git ({reasons}); expected data and models "
                "to be versioned with DVC, not git", redo,
                () if ready else ("this repository does not use DVC yet: `dvc init` sets it up",),
                path=f.path)
        return self.violation(
            f"{commit.sha[:7]}:{f.path}",
            f"{f.path} is committed to git in {commit.sha[:7]} ({reasons}); expected data "
            "and models to be versioned with DVC, not git",
            _rewrite(commit, redo),
            ("the fix stops the rebase at that commit, takes the file out of git into DVC, "
             "amends the commit and replays the rest; then push again",), path=f.path)

    def _store(self, f: StagedFile, store: str, commit: Commit | None) -> Violation:
        """An MLflow tracking store in git: untracked and ignored, whatever its size."""
        entry = "/" + store + ("/" if store != f.path else "")
        word = path_word(store)
        redo = (f"git rm -r -q --cached --ignore-unmatch {word} && {{ git check-ignore -q "
                f"{path_word(f.path)} || printf '\\n%s\\n' {shell_word(entry)} >> .gitignore; "
                "} && git add .gitignore")
        where = "staged" if commit is None else f"committed in {commit.sha[:7]}"
        return self.violation(
            f.path if commit is None else f"{commit.sha[:7]}:{f.path}",
            f"{f.path} is {where}: it is part of the MLflow tracking store {store}, which "
            "belongs in a tracking server or an ignored file, never in git (whatever its size)",
            redo if commit is None else _rewrite(commit, redo, None), path=f.path)

    def _lfs(self, f: StagedFile, commit: Commit | None, policy: DataPolicy) -> Violation:
        path = path_word(f.path)
        redo = (f"git rm --cached {path} && git lfs untrack {path} && dvc add {path} && "
                f"git add .gitattributes {path_word(f.path + '.dvc')} "
                f"{path_word(sibling(f.path, '.gitignore'))}")
        where = "staged" if commit is None else f"committed in {commit.sha[:7]}"
        violation = self.violation(
            f.path if commit is None else f"{commit.sha[:7]}:{f.path}",
            f"{f.path} is {where} as a Git LFS pointer; this policy versions data with DVC "
            f"(data.lfs: {policy.lfs})", redo if commit is None else _rewrite(commit, redo),
            path=f.path)
        return violation if policy.lfs == "block" else violation.with_severity(Severity.WARNING)


#: MLflow's local tracking stores: the default sqlite:///mlflow.db (MLflow 3), the ./mlruns
#: file store and a local server's ./mlartifacts.
STORE_DIRS = ("mlruns", "mlartifacts")
STORE_FILE = "mlflow.db"


def tracking_store(path: str) -> str | None:
    """The MLflow tracking store `path` (repo-relative) belongs to: `mlflow.db` itself, or
    the `mlruns`/`mlartifacts` directory above it; None for any other file."""
    parts = path.split("/")
    root = next((i for i, part in enumerate(parts[:-1]) if part in STORE_DIRS), None)
    if root is not None:
        return "/".join(parts[:root + 1])
    return path if parts[-1] == STORE_FILE else None


def _reasons(f: StagedFile, policy: DataPolicy) -> str:
    """Why `f` is data ("matches data/**, 12 KiB"), or "" when it is not. A file where tests
    and docs keep theirs (`data.fixtures`) is data by size alone, over its own limit."""
    reasons = []
    fixture = policy.fixtures.first(f.path)
    pattern = None if fixture else policy.data.first(f.path)
    limit = policy.fixture_max_size if fixture else policy.max_size
    if pattern is not None:
        reasons.append(f"matches {pattern}")
    decimal = policy.decimal_sizes
    if f.size == UNKNOWN_SIZE:  # a partial clone lacks the blob: asking would fetch it
        if reasons:
            reasons.append("size unknown (partial clone)")
    elif limit is not None and f.size > limit:
        where = f" for {fixture}" if fixture else ""
        shown = (policy.max_size_text if not fixture and policy.max_size_text
                 else human_size(limit, decimal))
        reasons.append(f"{human_size(f.size, decimal)}, over the {shown} limit{where}")
    elif reasons:
        reasons.append(human_size(f.size, decimal))
    return ", ".join(reasons)


def _redo(ctx: Context, path: str, project: str, commit: Commit | None) -> str:
    """The commands that move `path` from git to DVC, run from the repository root.

    DVC's commands run inside the file's DVC project (`dvc init --subdir`) with paths
    relative to it. `dvc add` refuses a stage's output ("overlaps with an output of stage")
    and a file inside a directory a `.dvc` file tracks: those are re-cached with
    `dvc commit` of their stage or `.dvc` file instead.
    """
    def rel(p: str) -> str:
        return path_word(posixpath.relpath(p, project) if project else p)

    cd = in_project(project)
    owner = _owner(ctx, path, project, f"{commit.sha}:" if commit else ":")
    if owner is None:
        return (f"{cd}git rm --cached {rel(path)} && dvc add {rel(path)} && "
                f"git add {rel(path + '.dvc')} {rel(sibling(path, '.gitignore'))}")
    target, adds = owner
    return (f"{cd}git rm --cached {rel(path)} && dvc commit -f {path_word(target)} && "
            f"git add {' '.join(rel(a) for a in adds)}")


def _owner(ctx: Context, path: str, project: str,
           rev: str) -> tuple[str, tuple[str, ...]] | None:
    """The stage (`dvc.yaml` at an ancestor directory) or `.dvc` file whose output holds
    `path`, as (the target `dvc commit` takes, project-relative; repo-relative files to
    `git add`); None for a plain file. `rev` is `:` (the index) or `<sha>:`."""
    from flowwarden.adapters.dvc.files import UnreadableFile, load_yaml, parse_dvcfile

    parts = path.split("/")[:-1]
    dirs = [d for d in ("/".join(parts[:i]) for i in range(len(parts) + 1))
            if not project or d == project or d.startswith(project + "/")]
    yamls = {d: rev + posixpath.join(d, "dvc.yaml") for d in dirs}
    dvcfiles = {d: f"{rev}{d}.dvc" for d in dirs if d and d != project}
    blobs = ctx.facts.data.blobs([*yamls.values(), *dvcfiles.values()])

    def rel(p: str) -> str:
        return posixpath.relpath(p, project) if project else p

    def holds(out: str | None) -> bool:
        return out is not None and (path == out or path.startswith(out + "/"))

    try:
        for d in reversed(dirs):
            text = blobs.get(yamls[d])
            doc = load_yaml(text) if text else None
            for stage, out in _stage_outs(doc, posixpath.join(d, "dvc.yaml")):
                if out is not None and holds(out):
                    target = stage if d == project else f"{rel(d)}/dvc.yaml:{stage}"
                    return target, (posixpath.join(d, "dvc.lock"), sibling(out, ".gitignore"))
            text = blobs.get(dvcfiles.get(d, ""))
            if text and any(holds(o.path) for o in parse_dvcfile(text, d + ".dvc")):
                return rel(d + ".dvc"), (d + ".dvc",)
    except UnreadableFile:
        return None
    return None


def _stage_outs(doc: object, dvc_yaml: str) -> list[tuple[str, str | None]]:
    """(stage, repo-relative output) for each output a `dvc.yaml` declares."""
    stages = doc.get("stages") if isinstance(doc, dict) else None
    found: list[tuple[str, str | None]] = []
    for name, stage in (stages.items() if isinstance(stages, dict) else ()):
        if not isinstance(stage, dict):
            continue
        base = posixpath.join(posixpath.dirname(dvc_yaml), str(stage.get("wdir") or "."), "x")
        for section in ("outs", "metrics", "plots"):
            entries = stage.get(section)
            for entry in entries if isinstance(entries, list) else ():
                for out in (entry if isinstance(entry, dict) else [entry]):
                    found.append((str(name), repo_path(base, str(out))))
    return found


def _rewrite(commit: Commit, redo: str, push: str | None = "dvc push") -> str:
    """Redo `commit` without the data: a rebase that stops at it (its todo line turned into
    `edit` by `sed`, as a person would in the editor), the data moved, the rest replayed,
    then the data sent to the DVC remote."""
    short = commit.sha[:7]
    base = f"{short}~1" if commit.parents else "--root"
    edit = shell_word(f"sed -i.orig -e '/^pick {short}/s/^pick/edit/'")
    return (f"git -c sequence.editor={edit} rebase -i {base} && {redo} && "
            "git commit --amend --no-edit && git rebase --continue" + (f" && {push}" if push
                                                                      else ""))


RULE = DvcUntrackedData()
