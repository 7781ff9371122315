"""Request ids: echo the caller's ``X-Request-ID`` when it is a sane token, else mint one.

A sane token is 1 to 128 printable ASCII characters. Anything else (empty, too long, control
characters, non-ASCII) is replaced rather than trusted, because the id ends up in logs and in
other services' logs: a caller must not be able to smuggle line breaks or megabytes into them.
"""

from __future__ import annotations

import os

HEADER = "X-Request-ID"
MAX_LENGTH = 128

# RFC 9562 section 5.4: the 13th hex digit is the version (4); the two top bits of the 17th
# are the variant (10), so that digit is 8, 9, a or b and its two low bits stay random.
_VARIANT_DIGIT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


# Ids minted per ``os.urandom`` call. The syscall costs about 1 µs inside a request, most of
# an id's price, and two ids are needed per assessment (its own and the request's).
_BATCH = 64
_minted: list[str] = []


def new_uuid4() -> str:
    """A fresh random UUID (version 4) as its canonical string, like ``str(uuid.uuid4())``.

    Formatted straight from random bytes (building a ``uuid.UUID`` and printing it cost
    three times as much), from one ``os.urandom`` call per ``_BATCH`` ids. ``list.pop`` is
    atomic, so threads never share an id; a forked child drops its parent's unused ones
    (``os.register_at_fork`` below), so processes never share one either.
    """
    while True:
        try:
            return _minted.pop()
        except IndexError:
            # Empty: refill. Two threads may both refill, which only mints more.
            _minted.extend(_mint(_BATCH))


def _mint(count: int) -> list[str]:
    digits = os.urandom(16 * count).hex()
    return [
        f"{digits[i : i + 8]}-{digits[i + 8 : i + 12]}-4{digits[i + 13 : i + 16]}-"
        f"{_VARIANT_DIGIT[digits[i + 16]]}{digits[i + 17 : i + 20]}-{digits[i + 20 : i + 32]}"
        for i in range(0, 32 * count, 32)
    ]


os.register_at_fork(after_in_child=_minted.clear)


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
    return new_uuid4()
