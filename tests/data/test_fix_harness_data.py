"""Every data rule's printed fix, pasted into a shell where the user is, makes the refused
operation pass: a real DVC project (at the root or `dvc init --subdir`), real git hooks
(the shims) locally and on the server, and `flowwarden ci`."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from dvckit import dvc

from fixkit import fix_of, paste
from fwkit import HOOKS, Repo, Result

# --- scenarios ------------------------------------------------------------------------

STALE_IS_AN_ERROR = "extends: gitflow-ml\nrules:\n  dvc-stale-pipeline: {severity: error}\n"
CLEAN = ("import os, sys\nos.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)\n"
         "open(sys.argv[1], 'w').write('a,b\\n1,2\\n')\n")


@pytest.fixture
def feature(pushed: Repo) -> Repo:
    """A root DVC project with a local remote, the shims, on feature/data."""
    pushed.git("push", "-q", "origin", "develop")
    pushed.git("switch", "-q", "-c", "feature/data", "develop")
    pushed.install_shims()
    return pushed


@pytest.fixture
def subdir(repo: Repo, tmp_path: Path) -> Repo:
    """A repository whose DVC project is `ml/` (`dvc init --subdir`), shims, feature/data."""
    ml = Repo(repo.path / "ml", repo.env)
    ml.path.mkdir()
    dvc(ml, "init", "-q", "--subdir")
    dvc(ml, "remote", "add", "-d", "storage", str(tmp_path / "dvc-remote"))
    repo.git("add", "ml/.dvc", "ml/.dvcignore")
    repo.git("commit", "-qm", "Set up DVC in ml/")
    repo.git("branch", "-f", "develop", "main")
    repo.git("init", "-q", "--bare", str(tmp_path / "origin.git"))
    repo.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    repo.git("push", "-q", "origin", "main", "develop")
    repo.git("switch", "-q", "-c", "feature/data", "develop")
    repo.install_shims()
    return repo


def commit(repo: Repo, message: str = "Add the data") -> Result:
    return repo.git("commit", "-m", message, check=False)


def staged_csv(repo: Repo, path: str = "data/train.csv") -> None:
    repo.write(path, "a,b\n1,2\n")
    repo.git("add", path)


def pipeline(repo: Repo, at: str = "", run: bool = True) -> None:
    """A `clean` stage writing data/clean.csv (in `at`), reproduced when `run`."""
    project = Repo(repo.path / at, repo.env) if at else repo
    project.write("clean.py", CLEAN)
    dvc(project, "stage", "add", "-q", "-n", "clean", "-d", "clean.py", "-o", "data/clean.csv",
        "python clean.py data/clean.csv")
    if run:
        dvc(project, "repro", "-q")


# --- dvc-untracked-data at pre-commit --------------------------------------------------


def test_untracked_csv_fix_then_the_commit_passes(feature: Repo) -> None:
    staged_csv(feature)
    paste(feature, fix_of(commit(feature), "dvc-untracked-data"))
    assert commit(feature).code == 0
    assert (feature.path / "data/train.csv.dvc").is_file()


def test_a_file_named_like_an_option_is_never_read_as_one(feature: Repo) -> None:
    """A top-level data file named `--pathspec-from-file=victims`: the fix names it as a path
    (`./--pathspec...`), so pasting it unstages nothing else and the data goes to DVC."""
    feature.write("victims", "README.md\nkeep.txt\n")
    feature.write("keep.txt", "keep\n")
    feature.git("add", "keep.txt")
    name = "--pathspec-from-file=victims.csv"
    (feature.path / name).write_text("a,b\n" + "1,2\n" * 400_000)
    feature.git("add", "--", name)
    paste(feature, fix_of(commit(feature), "dvc-untracked-data"))
    staged = feature.git("diff", "--cached", "--name-only").out.split()
    assert "keep.txt" in staged, staged
    assert commit(feature).code == 0
    assert (feature.path / f"{name}.dvc").is_file()


def test_untracked_pipeline_output_is_committed_by_its_stage(feature: Repo) -> None:
    """`dvc add data/clean.csv` fails: "overlaps with an output of stage"."""
    pipeline(feature)
    feature.git("add", "-f", "clean.py", "dvc.yaml", "dvc.lock", "data/clean.csv")
    fix = fix_of(commit(feature), "dvc-untracked-data")
    assert "dvc add" not in fix, fix
    paste(feature, fix)
    assert commit(feature).code == 0


def test_untracked_output_of_a_stage_never_run(feature: Repo) -> None:
    """dvc.yaml names the output but no dvc.lock records it yet (the script was run by hand)."""
    pipeline(feature, run=False)
    subprocess.run(["python", "clean.py", "data/clean.csv"], cwd=feature.path, check=True)
    feature.git("add", "clean.py", "dvc.yaml", "data/clean.csv")
    fix = fix_of(commit(feature), "dvc-untracked-data")
    assert "dvc add" not in fix, fix
    paste(feature, fix)
    assert commit(feature).code == 0


def test_untracked_file_inside_a_tracked_directory(feature: Repo) -> None:
    feature.write("data/images/a.png", "png-a")
    dvc(feature, "add", "-q", "data/images")
    feature.git("add", "data/images.dvc", "data/.gitignore")
    assert commit(feature, "Track the images").code == 0
    feature.write("data/images/b.png", "png-b")
    feature.git("add", "-f", "data/images/b.png")
    paste(feature, fix_of(commit(feature), "dvc-untracked-data"))
    assert commit(feature).code == 0
    assert "b.png" not in feature.git("ls-files", "data/images").out


def test_untracked_csv_in_a_subdir_project_is_fixed_from_the_root(subdir: Repo) -> None:
    staged_csv(subdir, "ml/data/train.csv")
    fix = fix_of(commit(subdir), "dvc-untracked-data")
    assert "dvc init" not in fix, fix
    paste(subdir, fix)
    assert commit(subdir).code == 0
    assert (subdir.path / "ml/data/train.csv.dvc").is_file()
    assert not (subdir.path / ".dvc").exists()


def test_untracked_pipeline_output_in_a_subdir_project(subdir: Repo) -> None:
    pipeline(subdir, "ml")
    subdir.git("add", "-f", "ml/clean.py", "ml/dvc.yaml", "ml/dvc.lock", "ml/data/clean.csv")
    fix = fix_of(commit(subdir), "dvc-untracked-data")
    assert "dvc add" not in fix, fix
    paste(subdir, fix)
    assert commit(subdir).code == 0


# --- dvc-untracked-data at pre-push, pre-receive and in CI -------------------------------


def committed_csv(repo: Repo, path: str = "data/train.csv") -> None:
    staged_csv(repo, path)
    repo.git("commit", "-qm", "Add raw data", "--no-verify")
    repo.commit_file("src/train.py", "print(1)\n", "Train on it", "--no-verify")


def test_data_in_a_pushed_commit_fix_then_the_push_passes(feature: Repo) -> None:
    committed_csv(feature)
    refused = feature.git("push", "origin", "feature/data", check=False)
    paste(feature, fix_of(refused, "dvc-untracked-data"))
    assert feature.git("push", "origin", "feature/data", check=False).code == 0
    assert "data/train.csv.dvc" in feature.git("ls-tree", "-r", "--name-only", "HEAD").out
    assert feature.git("log", "-1", "--format=%s").out.strip() == "Train on it"


def test_data_in_a_pushed_commit_of_a_subdir_project(subdir: Repo) -> None:
    committed_csv(subdir, "ml/data/train.csv")
    refused = subdir.git("push", "origin", "feature/data", check=False)
    paste(subdir, fix_of(refused, "dvc-untracked-data"))
    assert subdir.git("push", "origin", "feature/data", check=False).code == 0


def test_data_refused_by_the_server_fix_then_the_push_passes(feature: Repo,
                                                             tmp_path: Path) -> None:
    feature.git("-C", str(tmp_path / "origin.git"), "config", "core.hooksPath", str(HOOKS))
    committed_csv(feature)
    refused = feature.git("push", "--no-verify", "origin", "feature/data", check=False)
    assert "remote: error: dvc-untracked-data" in refused.text, refused.text
    paste(feature, fix_of(refused, "dvc-untracked-data"))
    assert feature.git("push", "--no-verify", "origin", "feature/data", check=False).code == 0


def test_data_refused_in_ci_fix_then_ci_passes(feature: Repo) -> None:
    base = feature.sha("develop")
    committed_csv(feature)
    refused = feature.fw("ci", "--range", f"{base}..HEAD", "--ref", "feature/data")
    paste(feature, fix_of(refused, "dvc-untracked-data"))
    again = feature.fw("ci", "--range", f"{base}..HEAD", "--ref", "feature/data")
    assert again.code == 0, again.text


# --- dvc-missing-cache, dvc-not-ignored, dvc-stale-pipeline at pre-commit ---------------


def collect_garbage(repo: Repo, dvcfile: str, cwd: Path | None = None) -> None:
    """`dvc gc` while `dvcfile` is away: its object leaves the cache, its data stays."""
    where = Repo(cwd or repo.path, repo.env)
    keep = repo.path.parent / "keep.dvc"
    shutil.move(repo.path / dvcfile, keep)
    dvc(where, "gc", "-w", "-f", "-q")
    shutil.move(keep, repo.path / dvcfile)


def test_missing_cache_fix_then_the_commit_passes(feature: Repo) -> None:
    feature.write("data/train.csv", "a,b\n1,2\n")
    dvc(feature, "add", "-q", "data/train.csv")
    feature.git("add", "data/train.csv.dvc", "data/.gitignore")
    collect_garbage(feature, "data/train.csv.dvc")
    paste(feature, fix_of(commit(feature), "dvc-missing-cache"))
    assert commit(feature).code == 0


def test_missing_cache_of_a_pipeline_output(feature: Repo) -> None:
    pipeline(feature)
    feature.git("add", "clean.py", "dvc.yaml", "dvc.lock", "data/.gitignore")
    shutil.rmtree(feature.path / ".dvc/cache")
    paste(feature, fix_of(commit(feature), "dvc-missing-cache"))
    assert commit(feature).code == 0


def test_missing_cache_in_a_subdir_project(subdir: Repo) -> None:
    ml = Repo(subdir.path / "ml", subdir.env)
    ml.write("data/train.csv", "a,b\n1,2\n")
    dvc(ml, "add", "-q", "data/train.csv")
    subdir.git("add", "ml/data/train.csv.dvc", "ml/data/.gitignore")
    collect_garbage(subdir, "ml/data/train.csv.dvc", ml.path)
    paste(subdir, fix_of(commit(subdir), "dvc-missing-cache"))
    assert commit(subdir).code == 0


@pytest.mark.parametrize("project", ["", "ml"])
def test_not_ignored_fix_then_the_commit_passes(project: str,
                                                request: pytest.FixtureRequest) -> None:
    repo: Repo = request.getfixturevalue("subdir" if project else "feature")
    where = Repo(repo.path / project, repo.env) if project else repo
    where.write("data/train.csv", "a,b\n1,2\n")
    dvc(where, "add", "-q", "data/train.csv")
    prefix = f"{project}/" if project else ""
    (repo.path / prefix / "data/.gitignore").unlink()
    repo.git("add", f"{prefix}data/train.csv.dvc")
    paste(repo, fix_of(commit(repo), "dvc-not-ignored"))
    assert commit(repo).code == 0


def test_tracked_by_git_and_dvc_fix_then_the_commit_passes(feature: Repo) -> None:
    feature.write("data/train.csv", "a,b\n1,2\n")
    dvc(feature, "add", "-q", "data/train.csv")
    feature.git("add", "-f", "data/train.csv", "data/train.csv.dvc", "data/.gitignore")
    refused = commit(feature)
    assert "is tracked by git as well as by DVC" in refused.text, refused.text
    paste(feature, fix_of(refused, "dvc-not-ignored"))
    assert commit(feature).code == 0


@pytest.mark.parametrize("project", ["", "ml"])
def test_stale_pipeline_fix_then_the_commit_passes(project: str,
                                                   request: pytest.FixtureRequest) -> None:
    repo: Repo = request.getfixturevalue("subdir" if project else "feature")
    repo.write(".flowwarden.yaml", STALE_IS_AN_ERROR)
    prefix = f"{project}/" if project else ""
    pipeline(repo, project)
    repo.git("add", "-A")
    assert commit(repo, "Add the clean stage").code == 0
    repo.write(f"{prefix}clean.py", CLEAN.replace("1,2", "3,4"))
    repo.git("add", f"{prefix}clean.py")
    paste(repo, fix_of(commit(repo, "Clean differently"), "dvc-stale-pipeline"))
    assert commit(repo, "Clean differently").code == 0


# --- dvc-not-pushed at pre-push ---------------------------------------------------------


def test_not_pushed_fix_then_the_push_passes(feature: Repo) -> None:
    feature.write("data/train.csv", "a,b\n1,2\n")
    dvc(feature, "add", "-q", "data/train.csv")
    feature.git("add", "data/train.csv.dvc", "data/.gitignore")
    assert commit(feature).code == 0
    refused = feature.git("push", "origin", "feature/data", check=False)
    paste(feature, fix_of(refused, "dvc-not-pushed"))
    assert feature.git("push", "origin", "feature/data", check=False).code == 0


def subdir_data_committed(subdir: Repo) -> None:
    ml = Repo(subdir.path / "ml", subdir.env)
    ml.write("data/train.csv", "a,b\n1,2\n")
    dvc(ml, "add", "-q", "data/train.csv")
    subdir.git("add", "ml/data/train.csv.dvc", "ml/data/.gitignore")
    assert commit(subdir).code == 0


def test_not_pushed_in_a_subdir_project_from_the_root(subdir: Repo) -> None:
    subdir_data_committed(subdir)
    refused = subdir.git("push", "origin", "feature/data", check=False)
    paste(subdir, fix_of(refused, "dvc-not-pushed"))
    assert subdir.git("push", "origin", "feature/data", check=False).code == 0


def test_not_pushed_from_the_users_cwd_in_the_project(subdir: Repo) -> None:
    """The user pushes from inside ml/, where they work with DVC; the fix runs there."""
    subdir_data_committed(subdir)
    ml = Repo(subdir.path / "ml", subdir.env)
    refused = ml.git("push", "origin", "feature/data", check=False)
    paste(subdir, fix_of(refused, "dvc-not-pushed"), cwd=ml.path)
    assert ml.git("push", "origin", "feature/data", check=False).code == 0


def test_not_pushed_in_ci_fix_then_ci_passes(feature: Repo) -> None:
    base = feature.sha("develop")
    feature.write("data/train.csv", "a,b\n1,2\n")
    dvc(feature, "add", "-q", "data/train.csv")
    feature.git("add", "data/train.csv.dvc", "data/.gitignore")
    assert commit(feature).code == 0
    refused = feature.fw("ci", "--range", f"{base}..HEAD", "--ref", "feature/data")
    paste(feature, fix_of(refused, "dvc-not-pushed"))
    again = feature.fw("ci", "--range", f"{base}..HEAD", "--ref", "feature/data")
    assert again.code == 0, again.text
