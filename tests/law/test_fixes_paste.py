"""Every printed `fix:` is safe to paste: names a pusher chose are shell-quoted, and every
reporter escapes untrusted text for its medium. The harness pastes each fix line found in
each output (text, json, GitHub annotations, the step summary, the GitLab report) into
`sh -c` in a scratch directory and asserts the payload never ran."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from ci.cikit import Server, github_pull_request
from fwkit import Repo

from .lawkit import push

PAYLOAD = "$(touch${IFS}PWNED)"
PERMISSIVE = """extends: gitflow-ml
branches:
  feature: {pattern: "feature/.+"}
  release: {pattern: "release/.+"}
"""


def fixes_in_text(text: str) -> list[str]:
    return [m.group(1).rstrip() for m in re.finditer(r"fix: (.*)", text)]


def fixes_in_github(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        if line.startswith("::") and "::" in line[2:]:
            data = line.split("::", 2)[2]
            data = data.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
            found += fixes_in_text(data)
    return found


def fixes_in_markdown(text: str) -> list[str]:
    return [m.group(2).strip() for m in re.finditer(r"fix: (`+)(.*?)\1", text)]


def fixes_in_json(text: str) -> list[str]:
    return [v["fix"] for v in json.loads(text)["violations"] if v["fix"]]


def fixes_in_gitlab(text: str) -> list[str]:
    return [m.group(1) for issue in json.loads(text)
            for m in [re.search(r"\(fix: (.*)\)", issue["description"])] if m]


def paste(fixes: list[str], scratch: Path) -> None:
    """Run each fix as a user pasting it would; the payload must never create PWNED."""
    assert any("PWNED" in fix for fix in fixes), fixes  # the hostile name reached the fixes
    scratch.mkdir(exist_ok=True)
    for fix in fixes:
        subprocess.run(["sh", "-c", fix], cwd=scratch, capture_output=True, timeout=30,
                       env={"PATH": "/usr/bin:/bin", "GIT_CEILING_DIRECTORIES": str(scratch),
                            "HOME": str(scratch)})
        assert not (scratch / "PWNED").exists(), f"pasting ran the payload: {fix}"


def permissive(repo: Repo) -> None:
    repo.git("switch", "-q", "develop")
    repo.write(".flowwarden.yaml", PERMISSIVE)
    repo.git("add", ".flowwarden.yaml")
    repo.git("commit", "-qm", "Looser names", "--no-verify")
    repo.git("switch", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "--no-verify", "-m", "Merge branch 'develop'", "develop")


def test_local_check_fixes_quote_a_hostile_name(repo: Repo, tmp_path: Path) -> None:
    permissive(repo)
    fixes = []
    for fmt, parse in (("text", fixes_in_text), ("json", fixes_in_json)):
        out = repo.fw("check", "--branch", f"x{PAYLOAD}", "--format", fmt).out
        fixes += parse(out)
        out = repo.fw("check", "--merge", f"feature/{PAYLOAD}", "--into", "main",
                      "--format", fmt).out
        fixes += parse(out)
    paste(fixes, tmp_path / "scratch")


def test_server_fixes_quote_a_hostile_name(server: Server, tmp_path: Path) -> None:
    dev = server.dev
    permissive(dev)
    dev.git("push", "-q", "origin", "main", "develop")
    server.install_pre_receive()
    dev.git("switch", "-q", "-c", f"x{PAYLOAD}", "develop")
    dev.commit_file("src/a.py", "a = 1\n", "Work", "--no-verify")
    named = push(dev, f"x{PAYLOAD}")
    dev.git("switch", "-q", "-c", f"release/{PAYLOAD}", "develop")
    dev.commit_file("VERSION", "1\n", "Bump", "--no-verify")
    dev.git("push", "-q", "origin", f"release/{PAYLOAD}")
    deleted = push(dev, f":release/{PAYLOAD}")
    assert "branch-name" in named.err and "branch-delete" in deleted.err, named.text
    paste(fixes_in_text(named.err) + fixes_in_text(deleted.err), tmp_path / "scratch")


def test_ci_reporters_quote_and_escape_a_hostile_name(server: Server, tmp_path: Path) -> None:
    dev = server.dev
    permissive(dev)
    dev.git("push", "-q", "origin", "main", "develop")
    source = f"feature/{PAYLOAD}"
    dev.git("switch", "-q", "-c", source, "develop")
    dev.commit_file("src/a.py", "a = 1\n", "Work", "--no-verify")
    dev.git("push", "-q", "origin", source)
    clone = server.clone(tmp_path / "ci")
    env = github_pull_request(clone.env, tmp_path, source, "main", dev.sha(source),
                              dev.sha("main"))
    report = tmp_path / "gl.json"
    result = clone.fw("ci", "--format", "github", "--report", str(report), env=env)
    assert result.code == 1, result.text
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    fixes = fixes_in_github(result.out) + fixes_in_markdown(summary)
    fixes += fixes_in_gitlab(report.read_text())
    assert len(fixes) >= 3, result.text
    paste(fixes, tmp_path / "scratch")


ESCAPE = "\x1b]0;owned\x07\x1b[2J"


def test_control_characters_in_a_subject_reach_no_terminal(server: Server) -> None:
    """A commit subject that would retitle and clear the pusher's terminal is printed with its
    control characters made visible."""
    server.install_pre_receive()
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dev.commit_file("a.py", "a = 1\n", f"Tweak {ESCAPE}", "--no-verify")
    result = push(dev, "develop")
    assert "protected-history" in result.err, result.text
    assert "\x1b" not in result.err and "\x07" not in result.err
    assert "\\e]0;owned" in result.err


def test_a_subject_cannot_inject_a_workflow_command_or_markdown(server: Server,
                                                                tmp_path: Path) -> None:
    dev = server.dev
    dev.git("switch", "-q", "develop")
    subject = "Tweak\r::add-mask::secret <img src=x onerror=alert(1)> @acme/admins"
    dev.commit_file("a.py", "a = 1\n", subject, "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    clone = server.clone(tmp_path / "ci")
    before = dev.sha("develop~1")
    env = {**clone.env, "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    result = clone.fw("ci", "--range", f"{before}..{dev.sha('develop')}", "--ref", "develop",
                      "--format", "github", env=env)
    assert result.code == 1, result.text
    assert not any(line.lstrip().startswith("::add-mask") for line in result.out.splitlines())
    summary = (tmp_path / "summary.md").read_text()
    assert "<img" not in summary and "&lt;img" in summary
    assert "@acme" not in summary.replace("\\@acme", "")
