"""The one subprocess wrapper: argument lists, no shell, readable failures."""
from __future__ import annotations

import atexit
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple, TextIO


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
    merge_stderr: bool = False,
) -> tuple[int, bytes]:
    """Run `cmd`, return (exit code, stdout); raise CommandError when `check` and it fails.
    `merge_stderr` returns stderr interleaved with stdout, as a terminal shows them."""
    early = None
    if _EARLY and stdin is None and env is None and not merge_stderr:
        early = _EARLY.pop((tuple(cmd), os.path.realpath(cwd or ".")), None)
    if early is not None:
        out, err = early.communicate()
        code = early.returncode
    else:
        proc = subprocess.run(
            list(cmd), cwd=cwd, input=stdin, env=None if env is None else dict(env),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    if check and code != 0:
        raise CommandError(cmd, code, err or out)
    return code, out


class Streamed(NamedTuple):
    """How a streamed command ended: `code` is None when it could not start or timed out."""

    code: int | None
    seconds: float
    problem: str | None = None


def stream(
    cmd: Sequence[str],
    out: TextIO,
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Streamed:
    """Run `cmd` with its output (stdout and stderr) copied to `out` line by line as it
    comes. A timeout kills the command's whole process group: a test runner's children too."""
    import threading  # only commands that stream pay for it

    start = time.monotonic()
    try:
        child = subprocess.Popen(
            list(cmd), cwd=cwd, env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
    except OSError as error:
        return Streamed(None, time.monotonic() - start,
                        f"`{cmd[0]}` could not start: {error.strerror}")
    timed_out = threading.Event()

    def kill() -> None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def expire() -> None:
        timed_out.set()
        kill()

    timer = threading.Timer(timeout, expire) if timeout else None
    if timer:
        timer.start()
    assert child.stdout is not None
    try:
        for line in child.stdout:
            out.write(line.decode("utf-8", "replace"))
            out.flush()
        code = child.wait()
    finally:
        if timer:
            timer.cancel()
        if child.poll() is None:  # interrupted: its own session would not see the ^C
            kill()
            child.wait()
        child.stdout.close()
    seconds = time.monotonic() - start
    if timed_out.is_set():
        return Streamed(None, seconds, f"timed out after {timeout:g} s")
    return Streamed(code, seconds)


class Pipe:
    """A command kept running and fed as it goes (`git cat-file --batch`): one process for
    a whole run's questions. Started on first use; closed by `close`, when collected, or at
    exit. Raises OSError when the command cannot start or has died."""

    def __init__(self, cmd: Sequence[str], *, cwd: str | os.PathLike[str] | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        import weakref

        self._child = subprocess.Popen(
            list(cmd), cwd=cwd, env=None if env is None else dict(env),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._finalizer = weakref.finalize(self, _end, self._child)

    def send(self, data: bytes) -> None:
        assert self._child.stdin is not None
        self._child.stdin.write(data)
        self._child.stdin.flush()

    def readline(self) -> bytes:
        assert self._child.stdout is not None
        line = self._child.stdout.readline()
        if not line:
            raise OSError("the command ended early")
        return line

    def read(self, size: int) -> bytes:
        assert self._child.stdout is not None
        data = self._child.stdout.read(size)
        if len(data) < size:
            raise OSError("the command ended early")
        return data

    def close(self) -> None:
        self._finalizer()


def _end(child: subprocess.Popen[bytes]) -> None:
    """Close a Pipe's input (the command ends on it) and reap it."""
    try:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        child.kill()
        child.wait()
