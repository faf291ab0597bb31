"""The server's dvc-not-pushed with `dvc init --subdir` projects and with a repository that
has no DVC yet: real DVC, a bare repository with the real pre-receive hook."""
from __future__ import annotations

import re
from pathlib import Path

from dvckit import dvc

from fwkit import HOOKS, Repo, run


def serve(repo: Repo, tmp_path: Path) -> str:
    """A bare `origin` seeded with main and develop, with flowwarden's pre-receive hook."""
    bare = tmp_path / "srv.git"
    repo.git("init", "-q", "--bare", "-b", "main", str(bare))
    repo.git("push", "-q", str(bare), "main", "develop")
    repo.git("-C", str(bare), "config", "core.hooksPath", str(HOOKS))
    repo.git("remote", "add", "origin", str(bare))
    return str(bare)


def fix_of(text: str) -> str:
    found = re.findall(r"remote: +fix: (.*)", text)
    assert len(found) == 1, text
    return found[0].strip()


def subdir_project(repo: Repo, tmp_path: Path) -> None:
    """`proj2/`: its own DVC project, its own remote."""
    (repo.path / "proj2").mkdir()
    proc = run(["dvc", "init", "-q", "--subdir"], repo.path / "proj2", repo.env)
    assert proc.code == 0, proc.text
    proc = run(["dvc", "remote", "add", "-d", "p2store", str(tmp_path / "p2-remote")],
               repo.path / "proj2", repo.env)
    assert proc.code == 0, proc.text


def test_a_subdir_project_is_checked_against_its_own_remote(dvc_repo: Repo,
                                                            tmp_path: Path) -> None:
    subdir_project(dvc_repo, tmp_path)
    dvc_repo.git("add", "proj2/.dvc")
    dvc_repo.git("commit", "-qm", "Set up the proj2 DVC project")
    dvc_repo.git("branch", "-f", "develop", "main")
    serve(dvc_repo, tmp_path)
    dvc_repo.git("switch", "-q", "-c", "feature/p2-data", "develop")
    dvc_repo.write("proj2/data/train.csv", "a,b\n1,2\n")
    assert run(["dvc", "add", "-q", "data/train.csv"], dvc_repo.path / "proj2",
               dvc_repo.env).code == 0
    dvc_repo.git("add", "proj2/data/train.csv.dvc", "proj2/data/.gitignore")
    dvc_repo.git("commit", "-qm", "Track proj2 data")

    refused = dvc_repo.git("push", "origin", "feature/p2-data", check=False)
    assert refused.code != 0
    assert "dvc-not-pushed: proj2/data/train.csv" in refused.text
    assert f"DVC remote p2store ({tmp_path / 'p2-remote'})" in refused.text
    fix = fix_of(refused.text)
    assert fix == 'cd "$(git rev-parse --show-toplevel)"/proj2 && dvc push -r p2store', fix

    # the fix, pasted where the user is (deep in the other project), then the push again
    (dvc_repo.path / "src").mkdir()
    assert run(["sh", "-c", fix], dvc_repo.path / "src", dvc_repo.env).code == 0
    accepted = dvc_repo.git("push", "origin", "feature/p2-data", check=False)
    assert accepted.code == 0, accepted.text


def test_a_subdir_project_pushed_to_its_own_remote_is_accepted(dvc_repo: Repo,
                                                               tmp_path: Path) -> None:
    subdir_project(dvc_repo, tmp_path)
    dvc_repo.git("add", "proj2/.dvc")
    dvc_repo.git("commit", "-qm", "Set up the proj2 DVC project")
    dvc_repo.git("branch", "-f", "develop", "main")
    serve(dvc_repo, tmp_path)
    dvc_repo.git("switch", "-q", "-c", "feature/p2-data", "develop")
    dvc_repo.write("proj2/model.bin", "weights\n")
    assert run(["dvc", "add", "-q", "model.bin"], dvc_repo.path / "proj2", dvc_repo.env).code == 0
    assert run(["dvc", "push", "-q"], dvc_repo.path / "proj2", dvc_repo.env).code == 0
    dvc_repo.git("add", "proj2/model.bin.dvc", "proj2/.gitignore")
    dvc_repo.git("commit", "-qm", "Track the proj2 model")
    result = dvc_repo.git("push", "origin", "feature/p2-data", check=False)
    assert result.code == 0, result.text


def test_the_first_feature_bringing_dvc_in_is_told_how_to_land_its_config(
        repo: Repo, tmp_path: Path) -> None:
    """develop has no DVC project: the server cannot know where data belongs, says so, and
    its fix lands `.dvc/` on develop first; then the feature's push is accepted."""
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\n")
    repo.git("add", ".flowwarden.yaml")
    repo.git("commit", "-qm", "Adopt flowwarden")
    repo.git("branch", "-f", "develop", "main")
    bare = serve(repo, tmp_path)
    repo.git("switch", "-q", "-c", "feature/add-data", "develop")
    dvc(repo, "init", "-q")
    dvc(repo, "remote", "add", "-d", "storage", str(tmp_path / "dvc-remote"))
    repo.write("data/train.csv", "a,b\n1,2\n")
    dvc(repo, "add", "-q", "data/train.csv")
    dvc(repo, "push", "-q")
    repo.git("add", ".dvc", ".dvcignore", "data/train.csv.dvc", "data/.gitignore")
    repo.git("commit", "-qm", "Track the training data")

    refused = repo.git("push", "-u", "origin", "feature/add-data", check=False)
    assert refused.code != 0
    assert "the server cannot check the DVC data: develop has no DVC project" in refused.text
    details = re.findall(r"remote: +(?!error|fix)(\S.*)", refused.text)
    assert details and not any(d.startswith("or, ") for d in details[:1]), refused.text
    fix = fix_of(refused.text)
    done = run(["sh", "-c", fix], repo.path, repo.env)
    assert done.code == 0, done.text
    assert repo.git("show", "--stat", "--format=", "HEAD").out.split()[0] == ".dvc/.gitignore"
    # its pull request merged into develop (the forge moves develop: no pre-receive)
    repo.git("-C", bare, "update-ref", "refs/heads/develop", repo.sha("feature/set-up-dvc"))

    accepted = repo.git("push", "-u", "origin", "feature/add-data", check=False)
    assert accepted.code == 0, accepted.text
