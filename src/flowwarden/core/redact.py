"""Credentials out of every URL flowwarden prints: userinfo and secret query parameters."""
from __future__ import annotations

import re

# The userinfo runs to the LAST `@` before the path: a password may hold an unencoded `@`.
# It never spans whitespace: a URL holds none, and a match running on into the message
# would swallow its words (a run id quoting `<m@example>` after the URL).
USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s?#]*)@")
SECRET_QUERY = re.compile(r"(?i)([?&](?:token|access_token|api_key|key|password|sig|"
                          r"signature|x-amz-signature|x-amz-credential)=)[^&#\s]*")


def redact(text: str) -> str:
    """`text` with the credentials of every URL in it replaced by `***`, for messages.

    `user:password@host` keeps the user (`user:***@host`); a lone `TOKEN@host` or
    `TOKEN:@host` becomes `***@host`: a bare userinfo, or one with an empty password, is how
    tokens are put in URLs (DagsHub, GitHub). Secrets in
    a query string (`?sig=`, `?token=`, SAS URLs) become `***` too.
    """
    def userinfo(match: re.Match[str]) -> str:
        user, colon, secret = match[2].partition(":")
        return f"{match[1]}{user}:***@" if colon and secret else f"{match[1]}***@"

    return SECRET_QUERY.sub(r"\1***", USERINFO.sub(userinfo, text))
