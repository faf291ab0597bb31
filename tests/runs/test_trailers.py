"""Trailer parsing and insertion, against git's own reading of the result."""
from __future__ import annotations

import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st
from runkit import PROJECT  # noqa: F401  (puts this checkout's src on sys.path)

from flowwarden.adapters.git.messages import cited_values, cleanup, trailer_block
from flowwarden.entry.prepare import with_trailers

KEY = "MLflow-Run-Id"
RUN = "0123456789abcdef0123456789abcdef"

words = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd"),
                              whitelist_characters=" .,:-"), min_size=1, max_size=30) \
    .filter(lambda s: s.strip() != "" and not s.startswith(" "))
paragraph = st.lists(words, min_size=1, max_size=3).map("\n".join)
messages = st.lists(paragraph, min_size=1, max_size=4).map("\n\n".join)
tails = st.sampled_from(["", "# Please enter the commit message\n#\n",
                         "# comment\n# ------------------------ >8 ------------------------\n"
                         "diff --git a/x b/x\n+Key: value\n"])


def git_trailers(text: str) -> list[str]:
    """What `git interpret-trailers --parse` finds, after git's own clean-up (`git commit -v`
    cuts at the scissors line, then strips comments)."""
    text = text.split("# ------------------------ >8 ------------------------\n")[0]
    cleaned = subprocess.run(["git", "stripspace", "--strip-comments"], input=text,
                             capture_output=True, text=True, check=True).stdout
    parsed = subprocess.run(["git", "interpret-trailers", "--parse"], input=cleaned,
                            capture_output=True, text=True, check=True).stdout
    return [line.split(":", 1)[1].strip() for line in parsed.splitlines()
            if line.lower().startswith(KEY.lower() + ":")]


@settings(max_examples=60, deadline=None)
@given(messages, tails)
def test_an_added_trailer_is_one_git_and_flowwarden_both_read(body: str, tail: str) -> None:
    raw = body + "\n" + ("\n" + tail if tail else "")
    result = with_trailers(raw, [f"{KEY}: {RUN}"])

    assert RUN in cited_values(result, KEY)
    assert RUN in git_trailers(result)
    # the message itself is untouched (as git records it from the editor: strip)
    assert cleanup(result, "strip").startswith(cleanup(raw, "strip").rstrip("\n"))
    assert result.endswith(tail)


@settings(max_examples=150, deadline=None)
@given(messages, st.booleans())
def test_flowwarden_reads_trailers_as_git_does(body: str, own_paragraph: bool) -> None:
    # In the body's last paragraph the line is a trailer only if every other line is one too.
    text = body + ("\n\n" if own_paragraph else "\n") + f"{KEY}: {RUN}\n"
    assert (RUN in cited_values(text, KEY)) == (RUN in git_trailers(text))


def test_trailers_are_the_last_paragraph_never_the_subject() -> None:
    assert trailer_block("MLflow-Run-Id: abc") == []
    assert cited_values("Subject\n\nMLflow-Run-Id: a\nmlflow-run-id:b\n", "MLflow-Run-Id") \
        == ["a", "b"]
    assert cited_values("Subject\n\nMLflow-Run-Id: a\n\nA closing remark.\n",
                        "MLflow-Run-Id") == []
    assert cited_values("Subject\n\nBody text\nMLflow-Run-Id: a\n", "MLflow-Run-Id") == []


def test_comments_and_the_scissors_diff_are_not_the_message() -> None:
    raw = ("Subject\n\nMLflow-Run-Id: a\n# Please enter the commit message\n"
           "# ------------------------ >8 ------------------------\n"
           "diff --git a/x b/x\nKey: not a trailer\n")
    assert trailer_block(raw) == [("MLflow-Run-Id", "a")]
