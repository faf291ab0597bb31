"""The trailer block exactly as `git interpret-trailers --parse` finds it, and cleanup exactly
as `git commit --cleanup=<mode>` records it: compared with the real git on generated input."""
from __future__ import annotations

import subprocess
from pathlib import Path

from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from flowwarden.adapters.git.messages import cleanup, trailer_block

LINES = st.sampled_from([
    "", " ", "Subject line", "#12 wider encoder", "plain words here", "Key: value",
    "MLflow-Run-Id: abc123", "Signed-off-by: Ada <ada@example.com>", "Reviewed-by : Bob",
    "(cherry picked from commit 0123456789abcdef0123456789abcdef01234567)", "   continued",
    "\tmore", "# a comment", "not-a-key value: x", "Key:", "---", "--- x", "Fixes #12",
    "value  ", "X-y-Z:  spaced  ", "# ------------------------ >8 ------------------------",
])
MESSAGES = st.lists(LINES, min_size=1, max_size=10).map(lambda lines: "\n".join(lines) + "\n")


def git_parse(message: str, cwd: Path) -> list[tuple[str, str]]:
    try:
        out = subprocess.run(["git", "-c", "core.commentChar=#", "interpret-trailers",
                              "--parse"], input=message, capture_output=True, text=True,
                             cwd=cwd, check=True, timeout=5).stdout
    except subprocess.TimeoutExpired:  # git 2.39 hangs on a few inputs: not a comparison
        reject()
    return [(k, v.strip()) for k, _, v in (line.partition(":") for line in out.splitlines())]


def git_stripspace(message: str, cwd: Path, strip: bool) -> str:
    args = ["git", "stripspace"] + (["--strip-comments"] if strip else [])
    return subprocess.run(args, input=message, capture_output=True, text=True, cwd=cwd,
                          check=True).stdout


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(MESSAGES)
def test_trailers_as_git_parses_them(tmp_path: Path, message: str) -> None:
    assert trailer_block(message) == git_parse(message, tmp_path), message


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(MESSAGES)
def test_cleanup_as_git_stripspace(tmp_path: Path, message: str) -> None:
    assert cleanup(message, "whitespace", verbose=False) == \
        git_stripspace(message, tmp_path, False)
    assert cleanup(message, "verbatim", verbose=False) == message
    assert cleanup(message, "strip", verbose=False) == git_stripspace(message, tmp_path, True)
    cut = message.split("# ------------------------ >8", 1)[0]  # -v: git cuts there first
    assert cleanup(message, "strip") == git_stripspace(cut, tmp_path, True)
    assert cleanup(message, "whitespace") == git_stripspace(cut, tmp_path, False)
