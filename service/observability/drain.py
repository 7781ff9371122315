"""Draining: how a worker learns that the process is shutting down.

``popcheck serve`` (the supervisor above gunicorn) creates a marker file when it receives
SIGTERM and passes its path to every worker in ``POPCHECK_DRAIN_FILE``. ``/readyz`` answers
503 while the file exists, so the load balancer stops routing before gunicorn stops accepting.
A file rather than a signal because every worker must see it, including ones forked later,
and because checking it is one ``stat`` call.
"""

from __future__ import annotations

import os

DRAIN_FILE_ENV = "POPCHECK_DRAIN_FILE"


def is_draining() -> bool:
    """True once the supervisor has started draining this instance."""
    path = os.environ.get(DRAIN_FILE_ENV)
    return path is not None and path != "" and os.path.exists(path)
