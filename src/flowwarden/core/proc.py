"""The one subprocess wrapper: argument lists, no shell, readable failures."""
from __future__ import annotations

import atexit
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


_EARLY: dict[tuple[tuple[str, ...], str], subprocess.Popen[bytes]] = {}


def start_early(cmd: Sequence[str], cwd: str | os.PathLike[str] = ".") -> None:
    """Start `cmd` now, for the first `run` of the very same command (same arguments and
    directory, this environment, no input) to take its result: a hook overlaps the git calls
    it is sure to make with its own start-up. A command never asked for is killed at exit."""
    if not _EARLY:
        atexit.register(_reap)
    try:
        _EARLY[(tuple(cmd), os.path.realpath(cwd))] = subprocess.Popen(
            list(cmd), cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
    except OSError:
        pass  # `run` starts it again and reports the failure


def _reap() -> None:
    for early in _EARLY.values():
        early.kill()
        early.wait()


def run(
    cmd: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> tuple[int, bytes]:
    """Run `cmd`, return (exit code, stdout); raise CommandError when `check` and it fails."""
    early = None
    if _EARLY and stdin is None and env is None:
        early = _EARLY.pop((tuple(cmd), os.path.realpath(cwd or ".")), None)
    if early is not None:
        out, err = early.communicate()
        code = early.returncode
    else:
        proc = subprocess.run(
            list(cmd), cwd=cwd, input=stdin, env=None if env is None else dict(env),
            capture_output=True, stdin=None if stdin is not None else subprocess.DEVNULL,
        )
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    if check and code != 0:
        raise CommandError(cmd, code, err or out)
    return code, out
