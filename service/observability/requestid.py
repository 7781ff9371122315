"""Request ids: echo the caller's ``X-Request-ID`` when it is a sane token, else mint one.

A sane token is 1 to 128 printable ASCII characters. Anything else (empty, too long, control
characters, non-ASCII) is replaced rather than trusted, because the id ends up in logs and in
other services' logs: a caller must not be able to smuggle line breaks or megabytes into them.
"""

from __future__ import annotations

import uuid

HEADER = "X-Request-ID"
MAX_LENGTH = 128


def is_sane(value: str | None) -> bool:
    """Whether ``value`` may be echoed back as the request id."""
    return (
        value is not None
        and 0 < len(value) <= MAX_LENGTH
        and value.isascii()
        and value.isprintable()
        # A header value cannot start or end with whitespace on the wire anyway.
        and value == value.strip()
    )


def choose(incoming: str | None) -> str:
    """The caller's id when sane, otherwise a fresh UUID4 string."""
    if incoming is not None and is_sane(incoming):
        return incoming
    return str(uuid.uuid4())
