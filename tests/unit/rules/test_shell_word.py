"""`shell_word`: any name as one POSIX shell word for the real name, printing no raw control
or bidi character; checked against real sh and bash."""
from __future__ import annotations

import subprocess

import pytest

from flowwarden.report.escape import terminal
from flowwarden.rules.fixes import pasteable, shell_word

NAMES = [
    "feature/login", "feature/it's", "-rf", "100%", "a\\b", "feature/\u202eevil",
    "feature/zero\u200bwidth", "data/\x1b[2Jclear.csv", "tab\tname", "mid\nline", "\x85c1",
    "-\u202e", "caf\u00e9", "bytes\udc80\udcff", "$(touch x)`id`", "' '",
]


@pytest.mark.parametrize("raw", NAMES)
@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_the_word_expands_to_the_real_name(raw: str, shell: str) -> None:
    word = shell_word(raw)
    assert terminal(word) == word, word  # nothing raw reaches a terminal
    out = subprocess.run([shell, "-c", f"printf '%s' {word}"], capture_output=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == raw.encode("utf-8", "surrogateescape"), word


def test_printable_names_are_plainly_quoted() -> None:
    assert shell_word("feature/login") == "feature/login"
    assert shell_word("it's") == "'it'\"'\"'s'"


def test_a_trailing_newline_is_not_pasteable() -> None:
    assert not pasteable("data\x1b.csv\n") and pasteable("data.csv\n".rstrip())
    # never an exception (a hostile file name must not stop the hook): the quoted raw name
    assert shell_word("data\x1b.csv\n") == "'data\x1b.csv\n'"
