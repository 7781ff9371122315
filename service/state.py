"""What the app shares between requests: settings, the compiled ruleset and readiness.

Settings and the assessor are read-only after ``create_app``; views reach them through
``get_state()`` (``current_app.extensions["popcheck"]``). ``Readiness`` is the one
mutable part: a shutdown (drain) flag plus optional probes, all thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Flask, current_app

from popcheck.config import Settings

if TYPE_CHECKING:
    from popcheck.assessment import Assessor
    from popcheck.fhir import IntakeForm


class Readiness:
    """Whether this process should receive new traffic (``GET /readyz``).

    A process only gets a ``Readiness`` once ``create_app`` has loaded and checked the
    ruleset, so it starts ready. It stops being ready when draining starts (for good: a
    draining process is on its way out) or when any registered check returns ``False``.

    The operations layer uses the two hooks: ``start_draining()`` from a signal handler in
    the worker, and ``add_check()`` for a condition held outside this process (e.g. a drain
    file written by the launcher).
    """

    def __init__(self) -> None:
        self._draining = threading.Event()
        self._checks: list[Callable[[], bool]] = []
        self._lock = threading.Lock()

    def start_draining(self) -> None:
        """Turn readiness off from now on; liveness is unaffected."""
        self._draining.set()

    @property
    def draining(self) -> bool:
        """True once ``start_draining`` was called."""
        return self._draining.is_set()

    def add_check(self, check: Callable[[], bool]) -> None:
        """Also require ``check()`` to be true; it must be cheap and must not raise."""
        with self._lock:
            self._checks = [*self._checks, check]

    def is_ready(self) -> bool:
        """Not draining, and every registered check passes."""
        if self._draining.is_set():
            return False
        # Copy-on-write list: iterating it needs no lock.
        return all(check() for check in self._checks)


@dataclass(frozen=True)
class ServiceState:
    """Everything a request may use; installed by ``create_app``."""

    settings: Settings
    assessor: Assessor
    #: The FHIR Questionnaire of the intake, built from the contract and the catalog.
    intake: IntakeForm
    readiness: Readiness = field(default_factory=Readiness)


def get_state(app: Flask | None = None) -> ServiceState:
    """The state of ``app``, or of the current app inside a request or app context."""
    state = (app or current_app).extensions["popcheck"]
    if not isinstance(state, ServiceState):  # pragma: no cover - wiring error
        raise RuntimeError("create_app did not install the popcheck state")
    return state
