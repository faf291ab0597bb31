"""dvc-file-format where it is law and where it is a convenience: the server's pre-receive
hook, `flowwarden ci`, and the pre-commit shims refuse malformed `.dvc` files, `dvc.lock`s and
`dvc.yaml`s by name, line and what was expected; files real DVC writes pass; the other dvc
rules stay silent about a malformed file; CI asks no remote a pushed `.dvc/config` names."""
from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest
from dvckit import dvc

from ci.cikit import ZERO, Server, github_push
from fwkit import Repo, Result

RULE = "dvc-file-format"
MD5 = "0123456789abcdef0123456789abcdef"

#: (file, content, words the violation must say), one per way a DVC file can be malformed.
MALFORMED = [
    ("a/x.dvc", "outs: [5]\n", "a/x.dvc:1: outs[0] is a whole number (5); expected a mapping"),
    ("b/x.dvc", "outs: 5\n", "b/x.dvc:1: outs is a whole number (5); expected a list"),
    ("c/x.dvc", f"outs:\n- md5: {MD5}\n  path: ''\n", "c/x.dvc:3: outs[0].path is empty"),
    ("d/x.dvc", f"outs:\n- md5: {MD5}\n  path: /etc\n",
     "d/x.dvc:2: outs[0] path '/etc' is absolute, a URL or outside the repository"),
    ("e/x.dvc", f"outs:\n- md5: {MD5}\n  path: ../../etc/passwd\n",
     "e/x.dvc:2: outs[0] path '../../etc/passwd' is absolute, a URL or outside"),
    ("f/x.dvc", "outs:\n- md5: 123\n  path: x\n", "f/x.dvc:2: outs[0].md5 is a whole number"),
    ("g/x.dvc", "outs:\n- md5: ../../etc/passwd\n  path: x\n",
     "g/x.dvc:2: outs[0].md5 is '../../etc/passwd'; expected an md5 hash"),
    ("h/x.dvc", f"outs:\n- md5: {MD5}\n  size: -1\n  nfiles: many\n  path: x\n",
     "h/x.dvc:3: outs[0].size is -1; expected a number of 0 or more"),
    ("h/x.dvc", f"outs:\n- md5: {MD5}\n  size: -1\n  nfiles: many\n  path: x\n",
     "h/x.dvc:4: outs[0].nfiles is a string ('many'); expected a whole number"),
    ("i/x.dvc", "outs:\n- md5: " + MD5 + "\n", "i/x.dvc:2: outs[0] has no path"),
    ("j/x.dvc", "outs: [\n", "j/x.dvc:2: is not the YAML DVC writes"),
    ("k/x.dvc", "- outs\n", "k/x.dvc:1: the top level is a list; expected a mapping"),
    ("l/x.dvc", "out:\n- path: x\n", "has the key 'out' (did you mean outs?)"),
    ("m/x.dvc", "outs: " + "[" * 100_000 + "]" * 100_000 + "\n", "m/x.dvc:1: is not the YAML DVC "
     "writes: nested deeper than 64 levels"),
    ("n/x.dvc", "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join(['*a' if i == 1 else f'*a{i - 1}'] * 9)}]\n"
        for i in range(1, 9)), "n/x.dvc:", "YAML aliases expand it by more than"),
    ("o/dvc.lock", "stages: 5\n", "o/dvc.lock:1: stages is a whole number (5); expected a "
     "mapping"),
    ("p/dvc.lock", "schema: '2.0'\nstages:\n  train:\n    cmd: x\n    params: [a]\n",
     "p/dvc.lock:5: stages.train.params is a list; expected a mapping"),
    ("q/dvc.lock", f"schema: '2.0'\nstages:\n  train:\n    cmd: x\n    outs:\n"
                   f"    - path: /etc\n      md5: {MD5}\n",
     "q/dvc.lock:6: stages.train.outs[0] path '/etc' is absolute"),
    ("r/dvc.lock", "schema: '2.0'\nstages:\n  train:\n    outs: []\n",
     "r/dvc.lock:4: stages.train has no cmd"),
    ("s/dvc.yaml", "stages:\n  train:\n    cmd: x\n    wdir: ../../..\n",
     "s/dvc.yaml:4: stages.train.wdir '../../..' is outside the repository"),
]


def _cases() -> dict[str, str]:
    return {path: text for path, text, *_ in MALFORMED}


@pytest.fixture
def server(tmp_path: Path, env: dict[str, str]) -> Server:
    """A bare server repository and a developer clone; develop uses DVC with a local remote."""
    server = Server(tmp_path, env)
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dvc(dev, "init", "-q")
    dvc(dev, "remote", "add", "-d", "storage", str(tmp_path / "dvc-remote"))
    dev.git("add", ".dvc")
    dev.git("commit", "-qm", "Set up DVC", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    return server


def _expect(output: str) -> None:
    assert "Traceback" not in output, output
    for path, _, *words in MALFORMED:
        for word in words:
            assert word in output, f"{path}: {word!r} not in\n{output}"
    assert output.count(f"{RULE}") >= len(_cases()), output
    # the other data rules do not report the same files a second time
    assert "not a readable DVC file" not in output, output
    assert "dvc-missing-cache" not in output and "dvc-not-pushed" not in output, output


def _commit_all(repo: Repo, files: dict[str, str], message: str) -> None:
    for path, text in files.items():
        repo.write(path, text)
        repo.git("add", path)
    repo.git("commit", "-qm", message, "--no-verify")


def test_pre_receive_refuses_every_malformed_dvc_file(server: Server) -> None:
    server.install_pre_receive()
    dev = server.dev
    dev.git("switch", "-q", "-c", "feature/data", "develop")
    _commit_all(dev, _cases(), "Hand-edited DVC files")
    result = dev.git("push", "origin", "feature/data", check=False)
    assert result.code != 0 and "pre-receive hook declined" in result.err, result.text
    _expect(result.err)
    assert "git rm -- a/x.dvc && git commit -m 'Remove a/x.dvc'" in result.err, result.err


def test_ci_refuses_every_malformed_dvc_file(server: Server, tmp_path: Path) -> None:
    dev = server.dev
    dev.git("switch", "-q", "-c", "feature/data", "develop")
    _commit_all(dev, _cases(), "Hand-edited DVC files")
    dev.git("push", "-q", "origin", "feature/data")
    clone = server.clone(tmp_path / "ci")
    result = clone.fw("ci", env=github_push(clone.env, tmp_path, "feature/data", ZERO,
                                            dev.sha("feature/data")))
    assert result.code == 1, result.text
    _expect(result.text)


def test_pre_commit_shims_refuse_every_malformed_dvc_file(shim_repo: Repo) -> None:
    shim_repo.git("switch", "-q", "-c", "feature/data")
    for path, text in _cases().items():
        shim_repo.write(path, text)
        shim_repo.git("add", path)
    result = shim_repo.git("commit", "-m", "Hand-edited DVC files", check=False)
    assert result.code == 1, result.text
    _expect(result.text)
    assert "git rm --cached -- a/x.dvc" in result.text
    assert shim_repo.sha("HEAD") == shim_repo.sha("develop")


def test_a_fix_restores_the_last_good_version_at_pre_commit(shim_repo: Repo) -> None:
    shim_repo.git("switch", "-q", "-c", "feature/data")
    _commit_all(shim_repo, {"x.dvc": f"outs:\n- md5: {MD5}\n  path: x\n"}, "Track x")
    shim_repo.write("x.dvc", "outs: [5]\n")
    shim_repo.git("add", "x.dvc")
    result = shim_repo.git("commit", "-m", "Break x.dvc", check=False)
    assert result.code == 1 and RULE in result.text, result.text
    assert "fix: git checkout HEAD -- x.dvc" in result.text, result.text
    shim_repo.git("checkout", "HEAD", "--", "x.dvc")
    assert "outs:\n- md5" in (shim_repo.path / "x.dvc").read_text()


def _real_dvc_files(repo: Repo) -> None:
    """`dvc add` and a `dvc stage add` + `dvc repro` lock, as DVC 3 writes them."""
    repo.write("data/raw.csv", "a,b\n1,2\n")
    dvc(repo, "add", "-q", "data/raw.csv")
    repo.write("train.py", "import shutil\nshutil.copy('data/raw.csv', 'model.bin')\n")
    repo.write("params.yaml", "lr: 0.1\n")
    dvc(repo, "stage", "add", "-q", "-n", "train", "-d", "train.py", "-d", "data/raw.csv",
        "-p", "lr", "-o", "model.bin", "python train.py")
    dvc(repo, "repro", "-q")
    dvc(repo, "push", "-q")
    repo.git("add", "-A")


@pytest.mark.parametrize("where", ["pre-commit", "pre-receive", "ci"])
def test_files_real_dvc_writes_pass(where: str, server: Server, tmp_path: Path) -> None:
    dev = server.dev
    dev.git("switch", "-q", "-c", "feature/data", "develop")
    _real_dvc_files(dev)
    lock = (dev.path / "dvc.lock").read_text()
    assert "schema: '2.0'" in lock and "hash: md5" in lock and "params.yaml:" in lock
    if where == "pre-commit":
        dev.install_shims()
        result = dev.git("commit", "-m", "Track data and the training stage", check=False)
        assert result.code == 0 and RULE not in result.text, result.text
        return
    dev.git("commit", "-qm", "Track data and the training stage", "--no-verify")
    if where == "pre-receive":
        server.install_pre_receive()
        result = dev.git("push", "origin", "feature/data", check=False)
        assert result.code == 0 and RULE not in result.text, result.text
        return
    dev.git("push", "-q", "origin", "feature/data")
    clone = server.clone(tmp_path / "ci")
    result = clone.fw("ci", env=github_push(clone.env, tmp_path, "feature/data", ZERO,
                                            dev.sha("feature/data")))
    assert result.code == 0 and RULE not in result.text, result.text


class Recording(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
        Recording.seen.append(self.path)
        self.send_response(404)
        self.end_headers()

    do_GET = do_HEAD  # noqa: N815 - stdlib name

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


def test_a_new_branch_in_ci_is_checked_against_the_remote_its_origin_names(
        server: Server, tmp_path: Path) -> None:
    """A new branch has no base: the DVC config comes from the branch whose policy judges it
    (develop), never from the work tree the pushed commit checks out."""
    listener = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    dev = server.dev
    trusted = tmp_path / "dvc-remote"
    try:
        dev.git("switch", "-q", "-c", "feature/exfil")
        dvc(dev, "remote", "modify", "storage", "url",
            f"http://127.0.0.1:{listener.server_address[1]}/x")
        dev.write("data/train.csv", "a,b\n1,2\n")
        dvc(dev, "add", "-q", "data/train.csv")
        dev.git("add", ".dvc/config", "data/train.csv.dvc", "data/.gitignore")
        dev.git("commit", "-qm", "Point the remote elsewhere", "--no-verify")
        dev.git("push", "-q", "origin", "feature/exfil")
        clone = server.clone(tmp_path / "ci")
        clone.git("checkout", "-q", dev.sha("feature/exfil"))  # as actions/checkout does
        dvc(clone, "remote", "modify", "--local", "storage", "password", "CISECRET")
        result: Result = clone.fw("ci", env=github_push(
            clone.env, tmp_path, "feature/exfil", ZERO, dev.sha("feature/exfil")))
    finally:
        listener.shutdown()
        listener.server_close()
    assert Recording.seen == [], result.text
    assert result.code == 1, result.text
    assert "dvc-not-pushed" in result.out and str(trusted) in result.out, result.text


def test_each_ref_is_judged_for_the_dvc_files_it_changes(server: Server) -> None:
    """develop holds a malformed legacy.dvc; feature/a repairs it, feature/b changes no DVC
    file. Pushed together or apart, both are accepted: no ref answers for another's files."""
    dev = server.dev
    _commit_all(dev, {"legacy.dvc": "outs: [5]\n"}, "A legacy DVC file")
    dev.git("push", "-q", "origin", "develop")
    server.install_pre_receive()
    dev.git("switch", "-q", "-c", "feature/b", "develop")
    _commit_all(dev, {"train.py": "x = 1\n"}, "Unrelated code")
    dev.git("switch", "-q", "-c", "feature/a", "develop")
    dev.git("rm", "-q", "legacy.dvc")
    dev.git("commit", "-qm", "Remove the broken legacy.dvc", "--no-verify")
    together = dev.git("push", "origin", "feature/a", "feature/b", check=False)
    assert together.code == 0, together.text
    assert RULE not in together.err, together.err
