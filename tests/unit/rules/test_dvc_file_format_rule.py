"""dvc-file-format: which files a push or a commit brings are read, and the fix each gets."""
from __future__ import annotations

from rulekit import ZERO_SHA, assert_one, check, push

from flowwarden.adapters.git import GitRepo
from flowwarden.core.records import CommitAttempt
from flowwarden.core.stages import Stage
from fwkit import Repo

ID = "dvc-file-format"
GOOD = "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  hash: md5\n  path: x.csv\n"


def commit_files(repo: Repo, files: dict[str, str], message: str) -> str:
    """A commit no branch holds yet (as in the server's quarantine), on top of HEAD."""
    repo.git("switch", "-q", "--detach")
    for path, text in files.items():
        repo.write(path, text)
        repo.git("add", path)
    repo.git("commit", "-qm", message)
    return repo.sha()


def test_a_push_that_breaks_a_file_is_told_to_restore_it(repo: Repo) -> None:
    repo.git("switch", "-q", "-c", "feature/data", "develop")
    repo.write("data/x.csv.dvc", GOOD)
    repo.git("add", "data/x.csv.dvc")
    repo.git("commit", "-qm", "Track x")
    good = repo.sha()
    bad = commit_files(repo, {"data/x.csv.dvc": "outs: [5]\n"}, "Edit by hand")
    found = check(ID, push(("feature/data", good, bad)), repo, Stage.PRE_RECEIVE)
    v = assert_one(found, ID, "data/x.csv.dvc", "data/x.csv.dvc:1: outs[0] is a whole number")
    assert v.fix == (f"git checkout {good[:12]} -- data/x.csv.dvc && "
                     "git commit -m 'Restore data/x.csv.dvc'")
    assert v.path == "data/x.csv.dvc"


def test_a_new_branch_is_told_to_remove_a_file_it_cannot_restore(repo: Repo) -> None:
    base = repo.sha("develop")
    repo.git("switch", "-q", "-c", "feature/data", "develop")
    bad = commit_files(repo, {"my data/x.dvc": "outs:\n- path: /etc\n"}, "Add")
    found = check(ID, push(("feature/data", ZERO_SHA, bad)), repo, Stage.CI)
    v = assert_one(found, ID, "my data/x.dvc", "'/etc' is absolute")
    assert v.fix == "git rm -- 'my data/x.dvc' && git commit -m 'Remove my data/x.dvc'"
    # a good file, a deletion and files that are not DVC's are not read
    repo.git("rm", "-q", "my data/x.dvc")
    tip = commit_files(repo, {"ok.dvc": GOOD, "notes.yaml": "outs: 5\n"}, "Fix")
    assert check(ID, push(("feature/data", base, tip)), repo, Stage.PRE_RECEIVE) == []


def test_a_lock_is_read_with_the_dvc_yaml_of_the_same_commit(repo: Repo) -> None:
    repo.git("switch", "-q", "-c", "feature/data", "develop")
    lock = ("schema: '2.0'\nstages:\n  t:\n    cmd: x\n    outs:\n    - path: ../o.csv\n"
            "      md5: 0123456789abcdef0123456789abcdef\n")
    tip = commit_files(repo, {"p/dvc.lock": lock, "p/dvc.yaml": "stages:\n  t:\n    cmd: x\n"
                              "    wdir: sub\n"}, "Stage in sub/")
    assert check(ID, push(("feature/data", ZERO_SHA, tip)), repo, Stage.PRE_PUSH) == []
    # the work tree's dvc.yaml (no wdir) is not the committed one
    repo.write("p/dvc.yaml", "stages:\n  t:\n    cmd: x\n")
    assert check(ID, push(("feature/data", ZERO_SHA, tip)), repo, Stage.PRE_PUSH) == []


def test_a_staged_file_is_read_from_the_index_not_the_work_tree(repo: Repo) -> None:
    repo.git("switch", "-q", "-c", "feature/data", "develop")
    repo.write("x.dvc", "outs: [5]\n")
    repo.git("add", "x.dvc")
    repo.write("x.dvc", GOOD)
    event = CommitAttempt("feature/data", repo.sha(), ())
    assert check(ID, event, repo, Stage.PRE_COMMIT) == []  # nothing staged in the event
    git = GitRepo.discover(repo.path, repo.env)
    event = CommitAttempt("feature/data", repo.sha(), git.staged_changes(repo.sha()))
    v = assert_one(check(ID, event, repo, Stage.PRE_COMMIT), ID, "x.dvc", "x.dvc:1: outs[0]")
    assert v.fix == "git rm --cached -- x.dvc"
