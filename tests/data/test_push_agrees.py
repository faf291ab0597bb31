"""dvc-not-pushed gives DVC's own verdict: the direct read of a local remote equals DVC's push
logic, and `dvc import-url` outputs are expected in the remote exactly when `dvc status -c`
and `dvc push` say so."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from dvckit import check_push, dvc, only

from flowwarden.adapters.dvc.cloud import not_in_remote
from flowwarden.adapters.dvc.files import outputs_of
from flowwarden.adapters.dvc.objects import Missing, ObjectStore, find_missing
from fwkit import Repo

RULE = "dvc-not-pushed"


def verdicts(missing: list[Missing]) -> set[tuple[str, bool, tuple[str, ...]]]:
    return {(m.output.path, m.whole, m.missing) for m in missing}


def both_answers(repo: Repo, remote: Path, sources: list[str]) -> tuple[set[object], set[object]]:
    """(direct read, DVC's push logic) for the outputs `sources` name at HEAD."""
    outputs = [o for s in sources for o in outputs_of(s, (repo.path / s).read_bytes())]
    direct = find_missing(ObjectStore(remote), outputs, [ObjectStore(repo.path / ".dvc/cache")])
    by_dvc = not_in_remote(repo.path, "", [repo.sha()], None, outputs)
    return verdicts(direct), verdicts(by_dvc)


def test_direct_read_of_a_local_remote_equals_dvcs_answer(
        pushed: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", pushed.env["DVC_SITE_CACHE_DIR"])
    remote = tmp_path / "dvc-remote"
    for i in range(6):
        pushed.write(f"images/{i}.txt", f"image {i}\n")
    pushed.write("data/train.csv", "a,b\n1,2\n")
    dvc(pushed, "add", "-q", "images", "data/train.csv")
    pushed.git("add", "-A")
    pushed.git("commit", "-qm", "Track data")
    sources = ["images.dvc", "data/train.csv.dvc"]

    direct, by_dvc = both_answers(pushed, remote, sources)
    every = tuple(f"{i}.txt" for i in range(6))
    assert direct == by_dvc == {("images", True, every), ("data/train.csv", True, ())}

    dvc(pushed, "push", "-q")
    assert both_answers(pushed, remote, sources) == (set(), set())

    # some of the directory's files gone from the remote: both name the same ones
    for name in ("1.txt", "4.txt"):
        md5 = next(e["md5"] for e in json.loads(_manifest(pushed, remote))
                   if e["relpath"] == name)
        (remote / "files/md5" / md5[:2] / md5[2:]).unlink()
    direct, by_dvc = both_answers(pushed, remote, sources)
    assert direct == by_dvc == {("images", False, ("1.txt", "4.txt"))}


def _manifest(repo: Repo, remote: Path) -> str:
    md5 = next(o.md5 for o in outputs_of("images.dvc", (repo.path / "images.dvc").read_bytes()))
    return (remote / "files/md5" / md5[:2] / md5[2:]).read_text()


@pytest.mark.parametrize("remote_kind", ["local", "http"])
@pytest.mark.parametrize("how", ["plain", "--no-download", "--to-remote"])
def test_import_url_outputs_follow_dvc_status_and_push(
        pushed: Repo, tmp_path: Path, http_remote: str, how: str, remote_kind: str) -> None:
    source = tmp_path / "source.csv"
    source.write_text("x,y\n1,2\n")
    if remote_kind == "http":  # served from the local remote's directory
        dvc(pushed, "remote", "add", "web", http_remote)
    policy = {"data": {"remote": "web" if remote_kind == "http" else "storage"}}
    flags = [] if how == "plain" else [how]
    dvc(pushed, "import-url", "-q", *flags, str(source), "imported.csv")
    pushed.git("add", "imported.csv.dvc", ".gitignore")
    pushed.git("commit", "-qm", f"Import source.csv ({how})")

    status = json.loads(dvc(pushed, "status", "-c", "-r", "storage", "--json").splitlines()[-1])
    found = [v for v in check_push(pushed, document=policy) if v.rule == RULE]
    # DVC: only a plain import-url leaves data that the remote lacks and `dvc push` sends
    assert (status.get("imported.csv") == "new") == (how == "plain"), status
    if how == "plain":
        assert only(found, RULE).subject == "imported.csv"
        dvc(pushed, "push", "-q", "-r", "storage")
        assert "imported.csv" not in dvc(pushed, "status", "-c", "-r", "storage", "--json")
    assert [v for v in check_push(pushed, document=policy) if v.rule == RULE] == []
