"""``deploy/gunicorn.conf.py`` replaces gunicorn's ``Response.process_headers`` with one that
remembers ordinary header names: on any header list, in any order, it must keep the same
headers, response length and upgrade flag as gunicorn's own method, and raise the same errors.

The configuration patches gunicorn when loaded, so it is loaded in a child process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_COMPARE = r"""
import random, runpy, sys
from gunicorn.http import wsgi

original = wsgi.Response.process_headers
runpy.run_path(sys.argv[1])
patched = wsgi.Response.process_headers
assert patched is not original

class Request:
    version = (1, 1)
    method = "POST"

def run(method, headers):
    response = wsgi.Response(Request(), None, None)
    try:
        method(response, iter(headers))
        error = None
    except Exception as exc:  # noqa: BLE001 - the error itself is compared
        error = (type(exc), str(exc))
    return response.headers, response.response_length, response.upgrade, error

names = [
    "Content-Type", "X-Request-ID", "Cache-Control", "X-Content-Type-Options",
    "Content-Security-Policy", "Content-Length", "content-length", "CONTENT-LENGTH",
    "Connection", "Upgrade", "upgrade", "Transfer-Encoding", "Server", "Date", "Keep-Alive",
    "TE", "Allow", "Accept-Post", "Bad Name", "X:Y", "", "\u00e9t\u00e9", "X\tA", b"X-A", 1,
]
values = [
    "application/json", "no-store", " padded\t", "\tx ", "", "upgrade", "Upgrade",
    "websocket", "12", " 7 ", "abc", "-1", "a\r\nb", "\x00", "caf\u00e9", "\u20ac", 5, b"x",
]
rng = random.Random(20261125)
for round_ in range(20000):
    headers = [
        (rng.choice(names), rng.choice(values)) for _ in range(rng.randint(0, 7))
    ]
    expected = run(original, headers)
    got = run(patched, headers)
    if got != expected:
        print(round_, headers, expected, got)
        sys.exit(1)
print("same")
"""


def test_remembering_names_changes_no_result() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _COMPARE, str(ROOT / "deploy" / "gunicorn.conf.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "same"
