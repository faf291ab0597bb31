"""DVC as teams deploy it: imports, `push: false`, global config, sub-projects, HTTP remotes
that refuse us, credentials in URLs, and DVC files crafted to leave the cache."""
from __future__ import annotations

import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from dvckit import RULES, check_commit, check_push, context, dvc, ids, only

from flowwarden.core.records import Push, RefUpdate, Severity
from flowwarden.core.stages import Stage
from fwkit import Repo

PUSH = "dvc-not-pushed"
CACHE = "dvc-missing-cache"


def commit_dvc(repo: Repo, path: str, text: str) -> None:
    repo.write(path, text)
    repo.git("add", path)
    repo.git("commit", "-qm", f"Add {path}")


def test_md5_that_is_a_path_is_refused_at_commit_and_push(pushed: Repo) -> None:
    for md5 in ("../../../../etc/passwd", "../../../../tmp/evil.dir"):
        pushed.write("data/x.csv.dvc", f"outs:\n- md5: {md5}\n  path: x.csv\n  hash: md5\n")
        pushed.git("add", "data/x.csv.dvc")
        found = check_commit(pushed)
        v = only(found, "dvc-file-format")
        assert "outs[0].md5" in v.message and "expected an md5 hash" in v.message
        assert v.path == "data/x.csv.dvc" and CACHE not in ids(found)
    pushed.git("commit", "-qm", "Crafted")
    found = check_push(pushed)
    v = only(found, "dvc-file-format")
    assert "expected an md5 hash" in v.message and PUSH not in ids(found)


def test_dir_manifest_naming_paths_outside_the_cache_is_not_read(pushed: Repo,
                                                                 tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps([{"relpath": "secret", "md5": "../../x"}]))
    pushed.write("data/d.dvc", "outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n"
                 "  path: d\n  hash: md5\n")
    cache = pushed.path / ".dvc" / "cache" / "files" / "md5" / "01"
    cache.mkdir(parents=True)
    (cache / "23456789abcdef0123456789abcdef.dir").write_text(outside.read_text())
    pushed.git("add", "data/d.dvc")
    v = only(check_commit(pushed), CACHE)
    assert "secret" not in v.message and "directory manifest" in v.message


@pytest.mark.parametrize(("path", "text", "words"), [
    ("data/x.csv.dvc", "outs: 5\n", "outs is a whole number (5); expected a list"),
    ("dvc.lock", "schema: '2.0'\nstages:\n  train:\n    cmd: x\n    params: [a]\n",
     "stages.train.params is a list; expected a mapping"),
])
def test_dvc_files_of_the_wrong_shape_are_a_named_violation(
        dvc_repo: Repo, path: str, text: str, words: str) -> None:
    dvc_repo.write(path, text)
    dvc_repo.git("add", path)
    found = check_commit(dvc_repo)
    assert words in only(found, "dvc-file-format").message and CACHE not in ids(found)


def test_dvc_import_is_never_expected_in_our_remote(pushed: Repo, tmp_path: Path,
                                                     env: dict[str, str]) -> None:
    source = Repo(tmp_path / "source", env)
    source.path.mkdir()
    source.git("init", "-q")
    dvc(source, "init", "-q")
    dvc(source, "remote", "add", "-d", "theirs", str(tmp_path / "their-remote"))
    source.write("shared.csv", "a,b\n1,2\n")
    dvc(source, "add", "-q", "shared.csv")
    source.git("add", "-A")
    source.git("commit", "-qm", "Shared data")
    dvc(source, "push", "-q")
    (pushed.path / "data").mkdir()
    dvc(pushed, "import", "-q", str(source.path), "shared.csv", "-o", "data/shared.csv")
    pushed.git("add", "data/shared.csv.dvc", "data/.gitignore")
    assert check_commit(pushed) == []
    pushed.git("commit", "-qm", "Import shared data")
    assert "in sync" in dvc(pushed, "status", "-c")  # DVC's own word: nothing to push
    assert check_push(pushed) == []


def test_push_false_outputs_are_not_expected_in_the_remote(pushed: Repo) -> None:
    pushed.write("dvc.yaml", "stages:\n  train:\n    cmd: echo model > model.bin\n"
                 "    outs:\n    - model.bin:\n        push: false\n")
    dvc(pushed, "repro", "-q")
    pushed.git("add", "-A")
    pushed.git("commit", "-qm", "Train")
    assert check_push(pushed) == []


def test_global_cache_dir_and_default_remote_are_honoured(pushed: Repo, tmp_path: Path) -> None:
    (pushed.path / ".dvc" / "config").write_text("")
    dvc(pushed, "cache", "dir", "--global", str(tmp_path / "shared-cache"))
    dvc(pushed, "remote", "add", "--global", "-d", "team", str(tmp_path / "team-remote"))
    pushed.write("data/train.csv", "a,b\n1,2\n")
    dvc(pushed, "add", "-q", "data/train.csv")
    pushed.git("add", "data/train.csv.dvc", "data/.gitignore")
    assert check_commit(pushed) == []
    pushed.git("commit", "-qm", "Track")
    v = only(check_push(pushed), PUSH)
    assert "not in DVC remote team" in v.message and v.fix == "dvc push -r team"
    dvc(pushed, "push", "-q")
    assert check_push(pushed) == []


def test_a_dvc_project_in_a_subdirectory(pushed: Repo, tmp_path: Path) -> None:
    (pushed.path / "ml").mkdir()
    sub = Repo(pushed.path / "ml", pushed.env)
    dvc(sub, "init", "-q", "--subdir")
    dvc(sub, "remote", "add", "-d", "mlstore", str(tmp_path / "ml-remote"))
    sub.write("train.csv", "a,b\n1,2\n")
    dvc(sub, "add", "-q", "train.csv")
    pushed.git("add", "-A")
    assert check_commit(pushed) == []
    pushed.git("commit", "-qm", "ML project")
    v = only(check_push(pushed), PUSH)
    assert v.fix == 'cd "$(git rev-parse --show-toplevel)"/ml && dvc push -r mlstore'
    done = subprocess.run(v.fix, shell=True, cwd=pushed.path, env=pushed.env,  # noqa: S602
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert check_push(pushed) == []


class Refusing(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
        self.send_response(401, "Unauthorized")
        self.send_header("WWW-Authenticate", 'Basic realm="dvc"')
        self.end_headers()

    do_GET = do_HEAD  # noqa: N815 - stdlib name

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


@pytest.fixture
def refusing() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_remote_answering_401_cannot_be_checked_and_the_token_is_not_printed(
        pushed: Repo, refusing: str) -> None:
    dvc(pushed, "remote", "add", "-d", "hub", f"https://user:SECRET@{refusing}/o/r.dvc")
    dvc(pushed, "remote", "modify", "hub", "url", f"http://user:SECRET@{refusing}/o/r.dvc")
    pushed.write("data/train.csv", "a,b\n1,2\n")
    dvc(pushed, "add", "-q", "data/train.csv")
    pushed.git("add", "data/train.csv.dvc", "data/.gitignore")
    pushed.git("commit", "-qm", "Track")
    v = only(check_push(pushed), PUSH)
    assert "could not be checked" in v.message and "401" in v.message
    assert "not in DVC remote" not in v.message
    assert "SECRET" not in repr(v)
    assert ids(check_push(pushed, document={"data": {"unreachable_remote": "warn"}})) == [PUSH]
    warned = check_push(pushed, document={"data": {"unreachable_remote": "warn"}})[0]
    assert warned.severity is Severity.WARNING


def test_sizes_are_shown_in_the_units_the_policy_was_written_in(dvc_repo: Repo) -> None:
    dvc_repo.write("notes/log.txt", "x" * 2_500_000)
    dvc_repo.git("add", "notes/log.txt")
    v = only(check_commit(dvc_repo, {"data": {"max_size": "2 MB"}}), "dvc-untracked-data")
    assert "2.5 MB, over the 2 MB limit" in v.message
    assert v.path == "notes/log.txt"


def test_a_pipeline_output_committed_to_git_is_fixed_through_its_stage(dvc_repo: Repo) -> None:
    dvc_repo.write("data/raw.csv", "a\n1\n")
    dvc_repo.write("dvc.yaml", "stages:\n  clean:\n    cmd: cp data/raw.csv data/clean.csv\n"
                   "    deps: [data/raw.csv]\n    outs: [data/clean.csv]\n")
    dvc(dvc_repo, "repro", "-q")
    dvc_repo.git("add", "-f", "dvc.yaml", "dvc.lock", "data/clean.csv", "data/.gitignore")
    v = only(check_commit(dvc_repo), "dvc-untracked-data")
    assert v.fix == ("git rm --cached data/clean.csv && dvc commit -f clean && "
                     "git add dvc.lock data/.gitignore")
    done = subprocess.run(v.fix, shell=True, cwd=dvc_repo.path, env=dvc_repo.env,  # noqa: S602
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert ids(check_commit(dvc_repo)) == []


def test_experiment_ref_push_whose_data_is_not_in_the_remote_is_refused(pushed: Repo) -> None:
    """`dvc exp push` runs no git hook: CI judges the refs/exps/* it sends."""
    pushed.write("data/train.csv", "a,b\n1,2\n")
    dvc(pushed, "add", "-q", "data/train.csv")
    pushed.git("add", "data/train.csv.dvc", "data/.gitignore")
    pushed.git("commit", "-qm", "Experiment data")
    exp = "refs/exps/ab/cdef0123/exp-1"
    pushed.git("update-ref", exp, "HEAD")
    ctx = context(pushed, Stage.CI)
    event = Push((RefUpdate(exp, "0" * 40, pushed.sha("HEAD"), exp),), remote=None, url=None)
    found = [v for r in RULES if r.applies(event, ctx.stage) for v in r.check(event, ctx)]
    assert ids(found) == [PUSH] and "not in DVC remote storage" in found[0].message


def test_an_output_with_its_own_remote_is_checked_there(pushed: Repo, tmp_path: Path) -> None:
    dvc(pushed, "remote", "add", "other", str(tmp_path / "other-remote"))
    pushed.write("data/train.csv", "a,b\n1,2\n")
    dvc(pushed, "add", "-q", "data/train.csv")
    dvcfile = pushed.path / "data" / "train.csv.dvc"
    dvcfile.write_text(dvcfile.read_text().replace("  path: train.csv",
                                                   "  path: train.csv\n  remote: other"))
    pushed.git("add", "-A")
    pushed.git("commit", "-qm", "Track on the other remote")
    dvc(pushed, "push", "-q", "-r", "storage", "data/train.csv.dvc", check=False)
    v = only(check_push(pushed), PUSH)
    assert "not in DVC remote other" in v.message and v.fix == "dvc push -r other"
    dvc(pushed, "push", "-q")
    assert check_push(pushed) == []


def test_missing_cache_in_a_subdirectory_project_is_fixed_from_the_root(dvc_repo: Repo) -> None:
    (dvc_repo.path / "ml").mkdir()
    sub = Repo(dvc_repo.path / "ml", dvc_repo.env)
    dvc(sub, "init", "-q", "--subdir")
    sub.write("train.csv", "a,b\n1,2\n")
    dvc(sub, "add", "-q", "train.csv")
    dvc_repo.git("add", "-A")
    assert check_commit(dvc_repo) == []
    for obj in (dvc_repo.path / "ml" / ".dvc" / "cache").rglob("*"):
        if obj.is_file():
            obj.unlink()
    v = only(check_commit(dvc_repo), CACHE)
    assert "the DVC cache ml/.dvc/cache" in v.message
    assert v.fix == ('cd "$(git rev-parse --show-toplevel)"/ml && '
            "dvc commit -f train.csv.dvc && git add train.csv.dvc")
    done = subprocess.run(v.fix, shell=True, cwd=dvc_repo.path, env=dvc_repo.env,  # noqa: S602
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert check_commit(dvc_repo) == []


def test_tls_failure_is_cannot_check_not_not_pushed(pushed: Repo, http_remote: str) -> None:
    # an https:// URL to a server that speaks plain HTTP: the TLS handshake fails
    dvc(pushed, "remote", "add", "-d", "tls", http_remote.replace("http://", "https://"))
    pushed.write("data/train.csv", "a,b\n1,2\n")
    dvc(pushed, "add", "-q", "data/train.csv")
    pushed.git("add", "data/train.csv.dvc", "data/.gitignore")
    pushed.git("commit", "-qm", "Track")
    v = only(check_push(pushed), PUSH)
    assert "could not be checked" in v.message and "cannot reach" in v.message
    assert "not in DVC remote" not in v.message


class Recording(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
        Recording.seen.append(self.headers.get("Authorization") or "none")
        self.send_response(404)
        self.end_headers()

    do_GET = do_HEAD  # noqa: N815 - stdlib name

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


def test_a_pull_request_cannot_point_the_remote_and_its_credentials_elsewhere(
        pushed: Repo, tmp_path: Path) -> None:
    """CI checks the data against the remote the target's committed config names: a pull
    request that rewrites `.dvc/config` never gets the runner's credentials sent to its host."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = pushed.sha("main")
        pushed.git("switch", "-q", "-c", "feature/exfil")
        dvc(pushed, "remote", "modify", "storage", "url",
            f"http://127.0.0.1:{server.server_address[1]}/x")
        dvc(pushed, "remote", "modify", "--local", "storage", "user", "ci")
        dvc(pushed, "remote", "modify", "--local", "storage", "password", "CISECRET")
        pushed.write("data/train.csv", "a,b\n1,2\n")
        dvc(pushed, "add", "-q", "data/train.csv")
        pushed.git("add", ".dvc/config", "data/train.csv.dvc", "data/.gitignore")
        pushed.git("commit", "-qm", "Point the remote elsewhere")
        ctx = context(pushed, Stage.CI)
        update = RefUpdate("refs/heads/feature/exfil", base, pushed.sha("HEAD"))
        event = Push((update,), remote=None, url=None)
        found = [v for r in RULES if r.applies(event, ctx.stage) for v in r.check(event, ctx)]
    finally:
        server.shutdown()
        server.server_close()
    assert Recording.seen == []
    v = only(found, PUSH)
    assert str(tmp_path / "dvc-remote") in v.message and "127.0.0.1" not in v.message
