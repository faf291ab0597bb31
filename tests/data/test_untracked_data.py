"""dvc-untracked-data at the commit stage: data staged into git is refused, with the DVC fix."""
from __future__ import annotations

import os
import pickle

from dvckit import check_commit, dvc, ids, only

from flowwarden.core.records import Severity
from fwkit import Repo

RULE = "dvc-untracked-data"
LFS_POINTER = ("version https://git-lfs.github.com/spec/v1\n"
               "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
               "size 12345\n")


def test_csv_under_data_is_refused_with_the_dvc_add_fix(dvc_repo: Repo) -> None:
    dvc_repo.write("data/train.csv", "a,b\n1,2\n")
    dvc_repo.git("add", "data/train.csv")
    v = only(check_commit(dvc_repo), RULE)
    assert v.severity is Severity.ERROR
    assert v.subject == "data/train.csv"
    assert "staged into git" in v.message and "matches data/**" in v.message
    assert v.fix == ("git rm --cached data/train.csv && dvc add data/train.csv && "
                     "git add data/train.csv.dvc data/.gitignore")


def test_the_fix_it_prints_makes_the_commit_pass(dvc_repo: Repo) -> None:
    dvc_repo.write("data/train.csv", "a,b\n1,2\n")
    dvc_repo.git("add", "data/train.csv")
    fix = only(check_commit(dvc_repo), RULE).fix
    assert fix is not None
    for step in fix.split(" && "):
        cmd, *args = step.split()
        if cmd == "git":
            dvc_repo.git(*args)
        else:
            dvc(dvc_repo, *args)
    assert check_commit(dvc_repo) == []


def test_pickled_model_anywhere_is_refused(dvc_repo: Repo) -> None:
    dvc_repo.write("src/model.pkl", pickle.dumps({"weights": [0.1, 0.2]}))
    dvc_repo.git("add", "src/model.pkl")
    v = only(check_commit(dvc_repo), RULE)
    assert "src/model.pkl" in v.message and "matches *.pkl" in v.message


def test_large_binary_is_refused_by_staged_size(dvc_repo: Repo) -> None:
    dvc_repo.write("assets/blob.bin", os.urandom(5 * 1024 * 1024))
    dvc_repo.git("add", "assets/blob.bin")
    v = only(check_commit(dvc_repo), RULE)
    assert "5 MiB, over the 1 MiB limit" in v.message
    assert "matches" not in v.message


def test_file_that_grows_past_the_limit_is_refused(dvc_repo: Repo) -> None:
    assert dvc_repo.commit_file("notes/log.txt", "small\n").code == 0
    dvc_repo.write("notes/log.txt", "x" * (2 * 1024 * 1024))
    dvc_repo.git("add", "notes/log.txt")
    v = only(check_commit(dvc_repo), RULE)
    assert v.subject == "notes/log.txt" and "2 MiB, over the 1 MiB limit" in v.message


def test_size_is_the_staged_blob_not_the_working_tree(dvc_repo: Repo) -> None:
    dvc_repo.write("notes/log.txt", "small\n")
    dvc_repo.git("add", "notes/log.txt")
    dvc_repo.write("notes/log.txt", "x" * (2 * 1024 * 1024))  # grown after staging
    assert RULE not in ids(check_commit(dvc_repo))


def test_policy_size_limit_accepts_units(dvc_repo: Repo) -> None:
    dvc_repo.write("notes/log.txt", "x" * 3000)
    dvc_repo.git("add", "notes/log.txt")
    assert check_commit(dvc_repo) == []
    v = only(check_commit(dvc_repo, {"data": {"max_size": "2 KB"}}), RULE)
    assert "3 KB, over the 2 KB limit" in v.message  # the policy's own units
    assert check_commit(dvc_repo, {"data": {"max_size": False}}) == []


def test_exempt_files_under_data_pass(dvc_repo: Repo) -> None:
    for path in ("data/README.md", "data/.gitkeep", "data/.gitignore", "data/raw.csv.dvc",
                 "models/dvc.yaml", "params.yaml"):
        dvc_repo.write(path, "x: 1\n")
    dvc_repo.git("add", "-f", "data", "models", "params.yaml")
    assert RULE not in ids(check_commit(dvc_repo))


def test_policy_extra_patterns_and_exemptions(dvc_repo: Repo) -> None:
    dvc_repo.write("data/schema.json", "{}\n")
    dvc_repo.write("weights/w.bin", "w")
    dvc_repo.git("add", "data/schema.json", "weights/w.bin")
    policy = {"data": {"extra_patterns": ["weights/"], "extra_exempt": ["data/*.json"]}}
    v = only(check_commit(dvc_repo, policy), RULE)
    assert v.subject == "weights/w.bin" and "matches weights/" in v.message


def test_deleting_data_from_git_passes(dvc_repo: Repo) -> None:
    dvc_repo.write("data/old.csv", "a\n")
    dvc_repo.git("add", "data/old.csv")
    dvc_repo.git("commit", "-qm", "legacy data", "--no-verify")
    dvc_repo.git("rm", "-q", "--cached", "data/old.csv")
    assert check_commit(dvc_repo) == []


def test_repository_without_dvc_still_refuses_data_and_says_to_set_dvc_up(repo: Repo) -> None:
    repo.write("data/train.csv", "a,b\n")
    repo.git("add", "data/train.csv")
    v = only(check_commit(repo), RULE)
    assert "matches data/**" in v.message
    assert v.fix is not None and v.fix.startswith("dvc init && git rm --cached data/train.csv")
    assert any("does not use DVC" in d for d in v.details)


def test_lfs_pointer_is_reported_per_policy(dvc_repo: Repo) -> None:
    dvc_repo.write("data/images.tar", LFS_POINTER)
    dvc_repo.write("assets/huge.bin", LFS_POINTER)
    dvc_repo.git("add", "data/images.tar", "assets/huge.bin")

    reported = [v for v in check_commit(dvc_repo) if v.rule == RULE]
    assert {v.subject for v in reported} == {"data/images.tar", "assets/huge.bin"}
    assert all(v.severity is Severity.WARNING and "Git LFS pointer" in v.message
               for v in reported)
    assert all(v.fix and "git lfs untrack" in v.fix for v in reported)

    blocked = check_commit(dvc_repo, {"data": {"lfs": "block"}})
    assert {v.severity for v in blocked} == {Severity.ERROR}
    assert "(data.lfs: block)" in blocked[0].message

    assert check_commit(dvc_repo, {"data": {"lfs": "allow"}}) == []
