"""A pull request's branch name is the contributor's: the fix that names it must paste safely."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from .cikit import Server
from .test_ci_run import ci


def test_the_missing_branch_fix_quotes_a_hostile_name(server: Server, tmp_path: Path) -> None:
    clone = server.clone(tmp_path / "ci")
    result = ci(clone, "--source", "feature/x$(touch${IFS}PWNED)", "--target", "develop",
                "--no-fetch")
    assert result.code == 2, result.text
    fix = re.search(r"fix: (.*)", result.err)
    assert fix is not None, result.text
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    subprocess.run(["sh", "-c", fix.group(1)], cwd=scratch, capture_output=True, check=False)
    assert not (scratch / "PWNED").exists()
