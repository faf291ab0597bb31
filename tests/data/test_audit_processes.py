"""An audit reads the history of DVC files in a fixed number of git processes, however many
merges change them (one `cat-file --batch` kept running, not one per step or finding)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fwkit import Repo

DVC_FILE = "outs:\n- md5: {md5}\n  size: 4\n  hash: md5\n  path: train.csv\n"


def merges_changing_a_dvc_file(repo: Repo, tag: str, count: int) -> None:
    """`count` feature branches, each changing data/train.csv.dvc, merged into develop."""
    repo.git("switch", "-q", "develop")
    for i in range(count):
        repo.git("switch", "-q", "-c", f"feature/{tag}-{i}", "develop")
        md5 = hashlib.md5(f"{tag}{i}".encode()).hexdigest()
        repo.write("data/train.csv.dvc", DVC_FILE.format(md5=md5))
        repo.write(f"data/bad-{tag}{i}.dvc", "outs: [5]\n")  # dvc-file-format's, each
        repo.git("add", "data/train.csv.dvc", f"data/bad-{tag}{i}.dvc")
        repo.git("commit", "-qm", f"Data {tag} {i}", "--no-verify")
        repo.git("switch", "-q", "develop")
        repo.git("merge", "-q", "--no-ff", "--no-verify", f"feature/{tag}-{i}", "-m",
                 f"Merge branch 'feature/{tag}-{i}' into develop")


def audit_processes(repo: Repo, trace: Path) -> tuple[int, dict[str, int]]:
    result = repo.fw("audit", "--format", "json", env={"GIT_TRACE2_EVENT": str(trace)})
    assert result.code in (0, 1), result.text
    events = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    trace.unlink()
    return sum(e.get("event") == "start" for e in events), json.loads(result.out)["counts"]


def test_an_audit_of_dvc_merges_runs_as_many_git_processes_for_few_as_for_many(
        dvc_repo: Repo, tmp_path: Path) -> None:
    trace = tmp_path / "trace2.json"
    merges_changing_a_dvc_file(dvc_repo, "a", 6)
    few, found = audit_processes(dvc_repo, trace)
    merges_changing_a_dvc_file(dvc_repo, "b", 18)
    many, found_many = audit_processes(dvc_repo, trace)
    # the data was never pushed: every step is judged, and found wanting
    assert found.get("dvc-not-pushed", 0) >= 6 and found["dvc-file-format"] == 6, found
    assert found_many["dvc-not-pushed"] >= 24, found_many
    assert few == many, (few, many)  # before: one cat-file per step and per finding
