"""dvc-file-format at the server refuses DVC files that leave the repository by the ways DVC
reads them (`wdir:` in a `.dvc` file, `${` that no one interpolates, `files:` relpaths,
backslashes), and bounds its work: big files are refused before parsing, and a file with
thousands of problems reports twenty and a count."""
from __future__ import annotations

from pathlib import Path

import pytest
from dvckit import dvc

from ci.cikit import Server

RULE = "dvc-file-format"
MD5 = "0123456789abcdef0123456789abcdef"
LOCK = "schema: '2.0'\nstages:\n  s:\n    cmd: x\n    outs:\n"

CASES = [
    ("a/x.dvc", f"wdir: ../../../../etc\nouts:\n- md5: {MD5}\n  path: passwd\n",
     "a/x.dvc:1: wdir '../../../../etc' is outside the repository"),
    ("b/x.dvc", f"outs:\n- md5: {MD5}\n  path: ${{x}}/../../../x\n",
     "b/x.dvc:2: outs[0] path '${x}/../../../x' is absolute, a URL or outside"),
    ("c/dvc.lock", LOCK + f"    - path: ${{x}}/../../../x\n      md5: {MD5}\n",
     "c/dvc.lock:6: stages.s.outs[0] path '${x}/../../../x' is absolute"),
    ("d/x.dvc", f"outs:\n- md5: {MD5[:-4]}1234.dir\n  path: d\n  files:\n"
                f"  - relpath: ../../../x\n    md5: {MD5}\n",
     "outs[0].files[0].relpath '../../../x' leaves its directory"),
    ("e/x.dvc", f"outs:\n- md5: {MD5}\n  path: ..\\\\..\\\\x\n",
     "e/x.dvc:2: outs[0] path '..\\\\\\\\..\\\\\\\\x' is absolute"),
    ("f/x.dvc", f"outs:\n- md5: {MD5}\n  path: x\nmeta: '{'y' * 1_100_000}'\n",
     "f/x.dvc: is 1,100,0"),
    ("g/x.dvc", "outs: [" + "5, " * 100_000 + "5]\n", "g/x.dvc: and 99,981 more problems"),
    ("h/dvc.lock", LOCK + "    - path: o\n      md5: " + MD5 + "\nmeta: [" + "1, " * 300_000
     + "1]\n", "more than 200,000 YAML values"),
]


@pytest.fixture
def server(tmp_path: Path, env: dict[str, str]) -> Server:
    server = Server(tmp_path, env)
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dvc(dev, "init", "-q")
    dvc(dev, "remote", "add", "-d", "storage", str(tmp_path / "dvc-remote"))
    dev.git("add", ".dvc")
    dev.git("commit", "-qm", "Set up DVC", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    server.install_pre_receive()
    return server


def test_pre_receive_refuses_escapes_and_oversized_files(server: Server) -> None:
    dev = server.dev
    dev.git("switch", "-q", "-c", "feature/data", "develop")
    for path, text, _ in CASES:
        dev.write(path, text)
    dev.git("add", "-A")
    dev.git("commit", "-qm", "Hand-edited DVC files", "--no-verify")
    result = dev.git("push", "origin", "feature/data", check=False)
    err = result.err
    assert result.code != 0 and "pre-receive hook declined" in err, result.text
    assert "Traceback" not in err, err
    for path, _, words in CASES:
        assert words in err, f"{path}: {words!r} not in\n{err}"
    assert len(err) < 50_000, len(err)
    assert "dvc-not-pushed" not in err and "dvc-missing-cache" not in err, err
