"""dvc-missing-cache and dvc-not-ignored: staged DVC files against the real cache and gitignore."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from dvckit import check_commit, dvc, ids, only

from fwkit import Repo

MISSING = "dvc-missing-cache"
IGNORED = "dvc-not-ignored"


def cache_object(root: Path, md5: str) -> Path:
    return root / "files" / "md5" / md5[:2] / md5[2:]


def md5_in(dvcfile: Path) -> str:
    line = next(ln for ln in dvcfile.read_text().splitlines() if "md5:" in ln)
    return line.split("md5:")[1].strip()


def add_directory(repo: Repo, name: str, count: int) -> None:
    for i in range(count):
        repo.write(f"data/{name}/{i:04d}.txt", f"sample {i}\n")
    dvc(repo, "add", "-q", f"data/{name}")
    repo.git("add", f"data/{name}.dvc", "data/.gitignore")


def test_dvc_add_then_commit_passes(dvc_repo: Repo) -> None:
    dvc_repo.write("data/train.csv", "a,b\n1,2\n")
    dvc(dvc_repo, "add", "-q", "data/train.csv")
    dvc_repo.git("add", "data/train.csv.dvc", "data/.gitignore")
    assert check_commit(dvc_repo) == []


def test_dvc_file_whose_object_dvc_gc_removed_is_refused(dvc_repo: Repo, tmp_path: Path) -> None:
    dvc_repo.write("data/train.csv", "a,b\n1,2\n")
    dvc(dvc_repo, "add", "-q", "data/train.csv")
    dvc_repo.git("add", "data/train.csv.dvc", "data/.gitignore")
    # Hide the .dvc file from DVC so that gc sees its object as garbage, as after a checkout.
    shutil.move(dvc_repo.path / "data/train.csv.dvc", tmp_path / "train.csv.dvc")
    dvc(dvc_repo, "gc", "-w", "-f", "-q")
    shutil.move(tmp_path / "train.csv.dvc", dvc_repo.path / "data/train.csv.dvc")

    v = only(check_commit(dvc_repo), MISSING)
    assert v.subject == "data/train.csv"
    assert "named in data/train.csv.dvc" in v.message
    assert "is not in the DVC cache .dvc/cache" in v.message
    assert v.fix == "dvc commit -f data/train.csv.dvc && git add data/train.csv.dvc"

    dvc(dvc_repo, "commit", "-f", "-q", "data/train.csv.dvc")
    assert MISSING not in ids(check_commit(dvc_repo))


def test_directory_output_with_many_files_passes_then_reports_lost_files(dvc_repo: Repo) -> None:
    add_directory(dvc_repo, "images", 300)
    assert check_commit(dvc_repo) == []

    cache = dvc_repo.path / ".dvc" / "cache"
    manifest = md5_in(dvc_repo.path / "data/images.dvc")
    entries = json.loads(cache_object(cache, manifest).read_text())
    for entry in entries[:5]:
        cache_object(cache, entry["md5"]).unlink()
    v = only(check_commit(dvc_repo), MISSING)
    assert v.subject == "data/images"
    assert "5 of 300 files named in data/images.dvc are not in the DVC cache" in v.message
    assert "0000.txt" in v.message

    cache_object(cache, manifest).unlink()
    v = only(check_commit(dvc_repo), MISSING)
    assert "directory manifest" in v.message and manifest[:8] in v.message


def test_cache_dir_from_config_local_is_honoured(dvc_repo: Repo, tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared-cache"
    dvc(dvc_repo, "cache", "dir", "--local", str(elsewhere))
    dvc_repo.write("data/train.csv", "a,b\n1,2\n")
    dvc(dvc_repo, "add", "-q", "data/train.csv")
    dvc_repo.git("add", "data/train.csv.dvc", "data/.gitignore")
    md5 = md5_in(dvc_repo.path / "data/train.csv.dvc")
    assert cache_object(elsewhere, md5).exists()
    assert check_commit(dvc_repo) == []

    cache_object(elsewhere, md5).unlink()
    v = only(check_commit(dvc_repo), MISSING)
    assert str(elsewhere) in v.message


def test_dvc2_cache_layout_is_found(dvc_repo: Repo) -> None:
    dvc_repo.write("data/train.csv", "a,b\n1,2\n")
    dvc(dvc_repo, "add", "-q", "data/train.csv")
    dvc_repo.git("add", "data/train.csv.dvc", "data/.gitignore")
    md5 = md5_in(dvc_repo.path / "data/train.csv.dvc")
    cache = dvc_repo.path / ".dvc" / "cache"
    legacy = cache / md5[:2] / md5[2:]
    legacy.parent.mkdir(parents=True)
    cache_object(cache, md5).rename(legacy)
    assert check_commit(dvc_repo) == []


def test_pipeline_output_missing_from_cache_names_the_stage(dvc_repo: Repo) -> None:
    dvc_repo.write("make.py", "import sys\nopen(sys.argv[1], 'w').write('out\\n')\n")
    dvc(dvc_repo, "stage", "add", "-q", "-n", "build", "-d", "make.py", "-o", "out.txt",
        "python make.py out.txt")
    dvc(dvc_repo, "repro", "-q")
    dvc_repo.git("add", "make.py", "dvc.yaml", "dvc.lock", ".gitignore")
    assert check_commit(dvc_repo) == []

    lock = yaml.safe_load((dvc_repo.path / "dvc.lock").read_text())
    md5 = lock["stages"]["build"]["outs"][0]["md5"]
    cache_object(dvc_repo.path / ".dvc" / "cache", md5).unlink()
    v = only(check_commit(dvc_repo), MISSING)
    assert v.subject == "out.txt" and "named in dvc.lock" in v.message
    assert v.fix == "dvc commit -f build && git add dvc.lock"


def test_uncached_metrics_are_not_expected_in_the_cache(dvc_repo: Repo) -> None:
    dvc_repo.write("make.py", "import sys\nopen(sys.argv[1], 'w').write('{\"acc\": 1}')\n")
    dvc(dvc_repo, "stage", "add", "-q", "-n", "eval", "-d", "make.py", "-M", "metrics.json",
        "python make.py metrics.json")
    dvc(dvc_repo, "repro", "-q")
    dvc_repo.git("add", "make.py", "dvc.yaml", "dvc.lock", "metrics.json")
    assert check_commit(dvc_repo) == []


def test_output_not_gitignored_is_refused(dvc_repo: Repo) -> None:
    dvc_repo.write("data/train.csv", "a,b\n1,2\n")
    dvc(dvc_repo, "add", "-q", "data/train.csv")
    (dvc_repo.path / "data/.gitignore").write_text("")
    dvc_repo.git("add", "data/train.csv.dvc")
    v = only(check_commit(dvc_repo), IGNORED)
    assert v.subject == "data/train.csv"
    assert "is an output of data/train.csv.dvc but is not gitignored" in v.message
    assert v.fix == "echo /train.csv >> data/.gitignore && git add data/.gitignore"


def test_output_tracked_by_git_as_well_is_refused(dvc_repo: Repo) -> None:
    dvc_repo.write("results/summary.txt", "ok\n")
    dvc(dvc_repo, "add", "-q", "results/summary.txt")
    dvc_repo.git("add", "-f", "results/summary.txt")
    dvc_repo.git("add", "results/summary.txt.dvc", "results/.gitignore")
    v = only(check_commit(dvc_repo), IGNORED)
    assert "tracked by git as well as by DVC" in v.message
    assert v.fix == "git rm -r --cached results/summary.txt"


def test_unreadable_dvc_file_is_refused(dvc_repo: Repo) -> None:
    dvc_repo.write("data/broken.dvc", "outs: [\n")
    dvc_repo.git("add", "data/broken.dvc")
    v = only(check_commit(dvc_repo), "dvc-file-format")
    assert "not the YAML DVC writes" in v.message
