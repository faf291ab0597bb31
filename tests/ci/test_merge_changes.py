"""The changes a merge brings are judged by the data rules; data defaults fit ML repositories;
a partial clone is audited without fetching the blobs it lacks."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fwkit import Repo

from .cikit import Server


def audit(repo: Repo) -> dict[str, Any]:
    result = repo.fw("audit", "--format", "json")
    assert result.code in (0, 1), result.text
    report: dict[str, Any] = json.loads(result.out)
    return report


def data_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in report["violations"] if v["rule"] == "dvc-untracked-data"]


def merge_feature(repo: Repo, name: str) -> None:
    repo.git("switch", "-q", "develop")
    repo.git("merge", "-q", "--no-ff", f"feature/{name}",
             "-m", f"Merge branch 'feature/{name}' into develop")


def test_an_evil_merge_that_adds_a_data_file_is_reported_at_the_merge(repo: Repo) -> None:
    repo.git("switch", "-q", "-c", "feature/x", "develop")
    repo.commit_file("src/x.py", "x = 1\n", "Add x")
    repo.git("switch", "-q", "develop")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "feature/x")
    repo.write("data/leak.csv", "a,b\n1,2\n")
    repo.git("add", "data/leak.csv")
    repo.git("commit", "-qm", "Merge branch 'feature/x' into develop")
    found = data_findings(audit(repo))
    assert [v["subject"] for v in found] == [f"{repo.sha()[:7]}:data/leak.csv"], found


def test_a_forged_merge_that_lands_a_csv_is_refused_by_pre_receive(server: Server) -> None:
    server.install_pre_receive()
    dev = server.dev
    dev.git("switch", "-q", "develop")
    empty_root = dev.git("commit-tree", "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
                         "-m", "Empty").out.strip()
    dev.write("train.csv", "x,y\n" + "1,2\n" * 500_000)  # 2 MB
    dev.git("add", "train.csv")
    tree = dev.git("write-tree").out.strip()
    forged = dev.git("commit-tree", tree, "-p", "develop", "-p", empty_root,
                     "-m", "Merge branch 'feature/any' into develop").out.strip()
    dev.git("reset", "-q", "--hard", forged)
    result = dev.git("push", "origin", "develop", check=False)
    assert result.code != 0, result.text
    assert "dvc-untracked-data" in result.err and "train.csv" in result.err, result.err
    assert f"train.csv is committed to git in {forged[:7]}" in result.err


def test_fixtures_are_data_by_size_alone(repo: Repo) -> None:
    repo.git("switch", "-q", "-c", "feature/fixtures", "develop")
    repo.write("tests/fixtures/iris.csv", "a,b\n" + "1,2\n" * 1000)  # 4 KiB
    repo.write("docs/demo.gif", os.urandom(2 * 1024 * 1024))
    repo.write("tests/big.parquet", os.urandom(11 * 1024 * 1024))
    repo.write("data/train.csv", "a,b\n1,2\n")
    repo.git("add", ".")
    repo.git("commit", "-qm", "Fixtures, docs media and data")
    merge_feature(repo, "fixtures")
    found = {v["subject"].split(":", 1)[1]: v["message"] for v in data_findings(audit(repo))}
    assert sorted(found) == ["data/train.csv", "tests/big.parquet"], found
    assert "over the 10 MiB limit for tests/**" in found["tests/big.parquet"]


def test_a_partial_clone_is_audited_without_fetching_its_missing_blobs(
        server: Server, tmp_path: Path) -> None:
    dev = server.dev
    dev.git("switch", "-q", "-c", "feature/data", "develop")
    dev.commit_file("data/train.csv", "x,y\n1,2\n", "Add data", "--no-verify")
    merge_feature(dev, "data")
    dev.git("push", "-q", "origin", "main", "develop")
    Repo(server.bare, server.env).git("config", "uploadpack.allowFilter", "true")
    partial = Repo(tmp_path / "partial.git", server.env)
    dev.git("clone", "-q", "--bare", "--filter=blob:none", f"file://{server.bare}",
            str(partial.path))
    found = data_findings(audit(partial))
    assert len(found) == 1 and "size unknown (partial clone)" in found[0]["message"], found
    blob = dev.git("rev-parse", "feature/data:data/train.csv").out.strip()
    missing = partial.git("rev-list", "--objects", "--missing=print", "develop").out.split()
    assert f"?{blob}" in missing
