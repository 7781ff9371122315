"""popcheck's gunicorn worker: gunicorn's gevent worker with a deadline on reading requests.

A gevent worker serves each connection in a greenlet, so a client that sends half a request
and waits costs a few kilobytes and an idle socket, not a worker (sync) or a thread (gthread).
gunicorn puts no limit of its own on how long a request may take to arrive, so this worker
adds one: a request's head and body must have arrived ``REQUEST_TIMEOUT`` seconds (default
10, as HAProxy's ``timeout http-request``) after its connection was accepted, or on a
kept-alive connection after the request's first byte. Past it, the connection reads as closed by the
client: before the head is complete gunicorn drops it without an answer; mid-body the app
finds the body shorter than its ``Content-Length`` and answers 400. Either way one warning
is logged, ``slow client cut off``, with the peer address, the phase (``head`` or ``body``),
the seconds waited and the number of bytes received: never the bytes themselves, which may
be health data.

Selected with ``worker_class = "popcheck.worker.Worker"`` (``deploy/gunicorn.conf.py``).
"""

from __future__ import annotations

import os
import time
from typing import Any

from gunicorn.workers.ggevent import GeventWorker

from popcheck.serversettings import seconds_from_env

REQUEST_TIMEOUT_ENV = "REQUEST_TIMEOUT"
DEFAULT_REQUEST_TIMEOUT = 10.0


def request_timeout_from_env() -> float:
    """``$REQUEST_TIMEOUT`` in seconds (default 10); a bad value raises ``ConfigError`` (a
    ``ValueError``) naming the variable (service/serversettings.py)."""
    return seconds_from_env(os.environ, REQUEST_TIMEOUT_ENV, DEFAULT_REQUEST_TIMEOUT)


class DeadlineSocket:
    """A client socket whose ``recv`` reports end of stream once the request's time is up.

    The clock starts when the connection is accepted, and on a kept-alive connection at the
    first byte of each further request (the wait before it is gunicorn's ``keepalive``).
    Everything else (``sendall``, ``close``, ``fileno``...) is the socket's own: gunicorn's
    parser and the request body read only through ``recv``.
    """

    def __init__(self, sock: Any, peer: Any, seconds: float, log: Any) -> None:
        self._sock = sock
        self._peer = peer
        self._seconds = seconds
        self._log = log
        self.phase = "head"
        self.cut_off = False
        self._started = time.monotonic()
        self._deadline: float | None = self._started + seconds
        self._received = 0

    def next_request(self) -> None:
        """An answer went out: the next request's clock starts at its first byte."""
        self._deadline = None
        self._received = 0
        self.phase = "head"

    def recv(self, size: int) -> bytes:
        if self.cut_off:
            return b""
        if self._deadline is None:
            # Idle between requests, bounded by gunicorn's keepalive timeout around the read.
            data: bytes = self._sock.recv(size)
            self._started = time.monotonic()
            self._deadline = self._started + self._seconds
            self._received = len(data)
            return data
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            return self._cut()
        self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(size)
        except TimeoutError:
            return self._cut()
        finally:
            self._sock.settimeout(None)
        self._received += len(data)
        return data

    def _cut(self) -> bytes:
        self.cut_off = True
        peer = self._peer[0] if isinstance(self._peer, tuple) and self._peer else str(self._peer)
        self._log.warning(
            "slow client cut off",
            extra={
                "remote": peer,
                "phase": self.phase,
                "waited_s": round(time.monotonic() - self._started, 3),
                "bytes_received": self._received,
                "request_timeout_s": self._seconds,
            },
        )
        return b""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class Worker(GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker; every connection's socket is a :class:`DeadlineSocket`."""

    request_timeout = DEFAULT_REQUEST_TIMEOUT

    @classmethod
    def check_config(cls, cfg: Any, log: Any) -> None:
        """In the master, before any fork: a bad ``REQUEST_TIMEOUT`` stops gunicorn here."""
        request_timeout_from_env()

    def init_process(self) -> None:
        self.request_timeout = request_timeout_from_env()
        super().init_process()

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        sock = DeadlineSocket(client, addr, self.request_timeout, self.log)
        super().handle(listener, sock, addr)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        # The head is in: what the request still reads is its body.
        if isinstance(sock, DeadlineSocket):
            sock.phase = "body"
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            if isinstance(sock, DeadlineSocket):
                sock.next_request()
