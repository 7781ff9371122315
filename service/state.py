"""What the app shares between requests: settings and the compiled ruleset. Read-only
after ``create_app``; views reach it through ``current_app.extensions["popcheck"]``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app

from service.config import Settings

if TYPE_CHECKING:
    from service.assessment import Assessor


@dataclass(frozen=True)
class ServiceState:
    settings: Settings
    assessor: Assessor


def get_state(app: Flask | None = None) -> ServiceState:
    state = (app or current_app).extensions["popcheck"]
    if not isinstance(state, ServiceState):  # pragma: no cover - wiring error
        raise RuntimeError("create_app did not install the popcheck state")
    return state
