"""The one subprocess wrapper: argument lists, no shell, readable failures."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence


class CommandError(Exception):
    """A command failed; the message carries the command, its exit code and output."""

    def __init__(self, cmd: Sequence[str], returncode: int, output: bytes) -> None:
        self.cmd = tuple(cmd)
        self.returncode = returncode
        self.output = output
        text = output.decode("utf-8", "replace").strip()
        first = text.splitlines()[0] if text else "no output"
        super().__init__(f"`{' '.join(cmd)}` exited {returncode}: {first}")


def run(
    cmd: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> tuple[int, bytes]:
    """Run `cmd`, return (exit code, stdout); raise CommandError when `check` and it fails."""
    proc = subprocess.run(
        list(cmd), cwd=cwd, input=stdin, env=None if env is None else dict(env),
        capture_output=True, stdin=None if stdin is not None else subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        raise CommandError(cmd, proc.returncode, proc.stderr or proc.stdout)
    return proc.returncode, proc.stdout
