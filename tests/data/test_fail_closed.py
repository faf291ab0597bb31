"""dvc-not-pushed fails closed at the server: an output a `.dvc` file names that DVC's own view
of the pushed revision does not account for (a `.dvcignore` hiding the `.dvc` file, a nested
`.dvc` directory making it a subrepo, `wdir:` in a `.dvc` file) is checked or refused, never
passed. Real DVC, a bare repository with flowwarden's pre-receive hook."""
from __future__ import annotations

from pathlib import Path

import pytest
from dvckit import dvc

from ci.cikit import Server
from fwkit import Repo

MD5 = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def server(tmp_path: Path, env: dict[str, str], http_remote: str) -> Server:
    """DVC's default remote is HTTP: DVC's library, not a directory read, answers for it."""
    server = Server(tmp_path, env)
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dvc(dev, "init", "-q")
    dvc(dev, "remote", "add", "-d", "storage", http_remote)
    dvc(dev, "remote", "add", "fill", str(tmp_path / "dvc-remote"))
    dev.git("add", ".dvc")
    dev.git("commit", "-qm", "Set up DVC", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    server.install_pre_receive()
    dev.git("switch", "-q", "-c", "feature/data", "develop")
    return server


def _unpushed(dev: Repo, name: str) -> None:
    """`dvc add` without `dvc push`: the data is only in the local cache."""
    dev.write(name, "secret rows\n")
    dvc(dev, "add", "-q", name)


def _refused(dev: Repo, files: dict[str, str]) -> str:
    for path, text in files.items():
        dev.write(path, text)
    dev.git("add", "-A")
    dev.git("commit", "-qm", "Add data", "--no-verify")
    result = dev.git("push", "origin", "feature/data", check=False)
    assert result.code != 0 and "pre-receive hook declined" in result.err, result.text
    assert "Traceback" not in result.err, result.err
    return result.err


def test_a_dvcignore_hiding_the_dvc_file_does_not_pass_unpushed_data(server: Server) -> None:
    _unpushed(server.dev, "data/e.csv")
    err = _refused(server.dev, {".dvcignore": "data/e.csv.dvc\n"})
    assert "dvc-not-pushed" in err and "data/e.csv" in err, err


def test_a_nested_dvc_directory_does_not_pass_unpushed_data(server: Server) -> None:
    dev = server.dev
    dev.write("sub/a.csv", "secret rows\n")
    dvc(dev, "add", "-q", "sub/a.csv")
    err = _refused(dev, {"sub/.dvc/config": "[core]\n    no_scm = true\n"})
    # refused either for the data itself, or because the pushed directory is a DVC project
    # the protected branch does not hold, so no trusted config says where its data belongs
    assert ("dvc-not-pushed" in err or "dvc-file-format" in err) and \
        ("sub/a.csv" in err or "no DVC project at sub/.dvc" in err), err


def test_wdir_in_a_dvc_file_does_not_pass_unpushed_data(server: Server) -> None:
    dev = server.dev
    _unpushed(dev, "data/m.csv")
    text = (dev.path / "data/m.csv.dvc").read_text()
    err = _refused(dev, {"data/m.csv.dvc": "wdir: ../models\n" + text})
    assert "dvc-not-pushed" in err or "dvc-file-format" in err, err


def test_interpolated_wdir_in_dvc_yaml_does_not_pass_unpushed_data(server: Server) -> None:
    dev = server.dev
    lock = ("schema: '2.0'\nstages:\n  s:\n    cmd: cp x o.bin\n    outs:\n    - path: o.bin\n"
            f"      hash: md5\n      md5: {MD5}\n      size: 9\n")
    err = _refused(dev, {"dvc.yaml": "vars:\n  - d: data\nstages:\n  s:\n    cmd: cp x o.bin\n"
                                     "    wdir: ${d}\n    outs:\n    - o.bin\n",
                         "dvc.lock": lock})
    assert "dvc-not-pushed" in err or "dvc-file-format" in err, err


def test_data_checked_directly_and_found_passes(server: Server, tmp_path: Path) -> None:
    dev = server.dev
    _unpushed(dev, "data/e.csv")
    dvc(dev, "push", "-q", "-r", "fill")  # the directory the HTTP remote serves
    dev.write(".dvcignore", "data/e.csv.dvc\n")
    dev.git("add", "-A")
    dev.git("commit", "-qm", "Add data", "--no-verify")
    result = dev.git("push", "origin", "feature/data", check=False)
    assert result.code == 0 and "dvc-not-pushed" not in result.err, result.text


IMPORT = f"""\
md5: {MD5}
frozen: true
deps:
- path: d
  repo:
    url: /nonexistent/source/repo
    rev_lock: fa8498fe6cc5bf1537a2649557fd916fa1903878
outs:
- md5: {MD5[::-1]}.dir
  size: 3
  nfiles: 1
  hash: md5
  path: imp
"""


def test_an_import_is_skipped_and_the_rest_still_checked(server: Server) -> None:
    """DVC cannot open an import's source repository from a bare server: that is no
    unreachable remote (a warning under unreachable_remote: warn), the rest is checked."""
    dev = server.dev
    _unpushed(dev, "data/e.csv")
    err = _refused(dev, {"imp.dvc": IMPORT})
    assert "dvc-not-pushed" in err and "data/e.csv" in err and "not in DVC remote" in err, err
    assert "could not be checked" not in err and "imp" not in err.replace("import", ""), err


def test_an_import_alone_passes(server: Server) -> None:
    dev = server.dev
    dev.write("imp.dvc", IMPORT)
    dev.git("add", "-A")
    dev.git("commit", "-qm", "Import data", "--no-verify")
    result = dev.git("push", "origin", "feature/data", check=False)
    assert result.code == 0 and "dvc-not-pushed" not in result.err, result.text


def test_dvc_never_parses_a_file_dvc_file_format_refused(server: Server) -> None:
    """A 4 MB `.dvc` file of a flow list costs DVC's parser minutes: refused by its size,
    and the other outputs are asked of the storage directly, in seconds."""
    import time

    dev = server.dev
    _unpushed(dev, "data/e.csv")
    start = time.monotonic()
    err = _refused(dev, {"big.dvc": f"outs:\n- md5: {MD5}\n  path: x\nmeta: ["
                                    + "1," * 2_000_000 + "1]\n"})
    assert time.monotonic() - start < 30, time.monotonic() - start
    assert "dvc-file-format" in err and "big.dvc" in err and "bytes" in err, err
    assert "dvc-not-pushed" in err and "data/e.csv" in err, err
