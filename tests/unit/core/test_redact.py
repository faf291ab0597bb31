"""Credentials never printed: userinfo to its last `@`, secret query parameters, any scheme."""
from __future__ import annotations

import pytest

from flowwarden.core.redact import redact


@pytest.mark.parametrize(("text", "secrets", "kept"), [
    ("https://user:SEC@RETTOKEN@127.0.0.1:1/x?sig=SIGTOKEN", ["SEC", "RETTOKEN", "SIGTOKEN"],
     "https://user:***@127.0.0.1:1/x?sig=***"),
    ("http://TOKEN@dagshub.com/o/r.mlflow", ["TOKEN"], "http://***@dagshub.com/o/r.mlflow"),
    ("remote s3://KEY:SECRET@bucket/p failed", ["SECRET"], "remote s3://KEY:***@bucket/p failed"),
    ("azure://c/p?sv=1&token=ABC&x=1", ["ABC"], "azure://c/p?sv=1&token=***&x=1"),
    ("no url here: user@host.example", [], "no url here: user@host.example"),
])
def test_every_secret_is_masked(text: str, secrets: list[str], kept: str) -> None:
    shown = redact(text)
    assert shown == kept
    for secret in secrets:
        assert secret not in shown


def test_a_token_with_an_empty_password_is_redacted() -> None:
    assert redact("https://TOKEN2:@host/x") == "https://***@host/x"


def test_redaction_never_runs_on_into_the_message() -> None:
    said = redact("http://u:pw@127.0.0.1:5000: run 'x Mallory <m@evil.example>' is malformed")
    assert "pw" not in said and "is malformed" in said and "Mallory" in said, said
