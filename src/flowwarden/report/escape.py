"""Escaping untrusted text (branch names, subjects, file names) for each medium it reaches."""
from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the Unicode format characters that reorder or hide text
# (bidi overrides, zero-width joiners): a terminal or a browser would act on them.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# Inline markup an untrusted word could start: emphasis, code, links, tables, strikethrough,
# mentions. Lines never start with untrusted text, so block markup (#, -, 1.) cannot begin.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~@])")


_NAMES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMES:
        return _NAMES[char]
    return f"\\u{ord(char):04x}" if ord(char) > 0xff else f"\\x{ord(char):02x}"


def terminal(text: str) -> str:
    """One line a terminal shows as written: control and format characters made visible."""
    return _UNSAFE.sub(_visible, text)


def markdown(text: str) -> str:
    """Markdown prose that renders as the literal text: no HTML, links, emphasis or mentions."""
    text = terminal(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", text)


def code_span(text: str) -> str:
    """A markdown code span holding `text` literally, whatever backticks it contains."""
    text = terminal(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
