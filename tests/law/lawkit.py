"""Helpers for the hostile suite: bounded runs and hostile inputs."""
from __future__ import annotations

import resource
import subprocess
from collections.abc import Mapping
from pathlib import Path

from fwkit import Repo, Result

MEMORY_LIMIT = 2 << 30  # a regression fails with MemoryError instead of eating the machine


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def bounded(cmd: list[str], cwd: Path, env: Mapping[str, str], timeout: float = 60) -> Result:
    """`cmd` (and its children: hooks) with 2 GiB of address space and a timeout."""
    proc = subprocess.run(cmd, cwd=cwd, env=dict(env), capture_output=True, text=True,
                          preexec_fn=_limit, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def push(repo: Repo, *args: str) -> Result:
    return bounded(["git", "push", "origin", *args], repo.path, repo.env)


def refused(result: Result, *words: str) -> None:
    assert result.code != 0, result.text
    assert "pre-receive hook declined" in result.err, result.text
    for word in words:
        assert word in result.err, result.text
    assert "Traceback" not in result.text, result.text


def accepted(result: Result) -> None:
    assert result.code == 0, result.text


def alias_bomb(levels: int = 9) -> str:
    """The billion laughs in YAML: about 500 bytes that expand to 9**levels strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "extends: gitflow-ml\nx-bomb:\n" + "".join(f"  {line}\n" for line in lines)
