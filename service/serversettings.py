"""The environment ``popcheck serve`` and ``deploy/gunicorn.conf.py`` read, checked in one place.

``popcheck serve`` calls ``load_server_settings`` before it starts gunicorn, so a bad value
stops it at once with one line naming the variable, what is wrong with the value and what is
allowed (gunicorn's own messages name its settings, not our variables, and ``WORKERS=0``
made it listen with no worker to answer). ``deploy/gunicorn.conf.py`` reads its values
through the same function, so gunicorn started by hand with that file agrees.

Nothing here runs at import time.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from popcheck.config import ConfigError

# Set by ``popcheck serve --announce`` for gunicorn.conf.py's ``when_ready``: one plain line
# with the /docs address once the service listens.
ANNOUNCE_ENV = "POPCHECK_ANNOUNCE_READY"

# gunicorn's worker classes that work with this app and what is installed; the default is
# service/worker.py (gevent with a request deadline).
WORKER_CLASSES = ("popcheck.worker.Worker", "gevent", "gthread", "sync")

# A host name (RFC 1123 labels) or something ipaddress accepts.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


@dataclass(frozen=True)
class ServerSettings:
    """What gunicorn is started with; docs/operations.md, Settings, lists each variable."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    threads: int = 1
    worker_class: str = "popcheck.worker.Worker"
    worker_connections: int = 1000
    keepalive: int = 0
    request_timeout: float = 10.0
    forwarded_allow_ips: str = "127.0.0.1,::1"

    @property
    def bind(self) -> str:
        """gunicorn's ``bind``: an IPv6 address goes in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def local_url(self) -> str:
        """Where a browser on this machine reaches the service (all interfaces: loopback)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"


def _problem(var: str, raw: str, problem: str, allowed: str) -> ConfigError:
    return ConfigError(f"{var}={raw!r} {problem}; allowed: {allowed}")


def _whole(env: Mapping[str, str], var: str, default: int, low: int, high: int) -> int:
    raw = env.get(var)
    if raw is None or raw.strip() == "":
        return default
    allowed = f"a whole number from {low} to {high}"
    try:
        value = int(raw.strip())
    except ValueError:
        raise _problem(var, raw, "is not a whole number", allowed) from None
    if not low <= value <= high:
        raise _problem(var, raw, "is out of range", allowed)
    return value


def seconds_from_env(env: Mapping[str, str], var: str, default: float, high: float = 3600) -> float:
    """``var`` as a number of seconds above 0 (at most ``high``); ``default`` when unset."""
    raw = env.get(var)
    if raw is None or raw.strip() == "":
        return default
    allowed = f"a number of seconds above 0, at most {high:g}"
    try:
        value = float(raw.strip())
    except ValueError:
        raise _problem(var, raw, "is not a number", allowed) from None
    if not math.isfinite(value) or not 0 < value <= high:
        raise _problem(var, raw, "is out of range", allowed)
    return value


def _host(env: Mapping[str, str]) -> str:
    raw = env.get("HOST")
    if raw is None or raw.strip() == "":
        return ServerSettings.host
    host = raw.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            raise _problem(
                "HOST",
                raw,
                "is not an address",
                "an IPv4 or IPv6 address or a host name, without a port "
                "(127.0.0.1 for this machine only, 0.0.0.0 for every interface)",
            ) from None
    return host


def _worker_class(env: Mapping[str, str]) -> str:
    raw = env.get("WORKER_CLASS")
    if raw is None or raw.strip() == "":
        return ServerSettings.worker_class
    if raw.strip() not in WORKER_CLASSES:
        raise _problem("WORKER_CLASS", raw, "is not a worker class", ", ".join(WORKER_CLASSES))
    return raw.strip()


def _forwarded_allow_ips(env: Mapping[str, str]) -> str:
    raw = env.get("FORWARDED_ALLOW_IPS")
    if raw is None:
        return ServerSettings.forwarded_allow_ips
    for item in raw.split(","):
        item = item.strip()
        if not item or item == "*":
            continue
        try:
            ipaddress.ip_network(item)
        except ValueError:
            raise _problem(
                "FORWARDED_ALLOW_IPS",
                raw,
                f"holds {item!r}, which is not an address or network",
                "comma-separated IP addresses or networks (10.0.0.0/8), or *",
            ) from None
    return raw.strip()


def load_server_settings(environ: Mapping[str, str] | None = None) -> ServerSettings:
    """Read ``HOST``, ``PORT``, ``WORKERS``, ``THREADS``, ``WORKER_CLASS``,
    ``WORKER_CONNECTIONS``, ``KEEPALIVE``, ``REQUEST_TIMEOUT`` and ``FORWARDED_ALLOW_IPS``.

    Raises ``ConfigError`` whose message starts with the variable and its value.
    """
    env = os.environ if environ is None else environ
    return ServerSettings(
        host=_host(env),
        port=_whole(env, "PORT", ServerSettings.port, 1, 65535),
        workers=_whole(env, "WORKERS", ServerSettings.workers, 1, 256),
        threads=_whole(env, "THREADS", ServerSettings.threads, 1, 256),
        worker_class=_worker_class(env),
        worker_connections=_whole(
            env, "WORKER_CONNECTIONS", ServerSettings.worker_connections, 1, 100_000
        ),
        keepalive=_whole(env, "KEEPALIVE", ServerSettings.keepalive, 0, 3600),
        request_timeout=seconds_from_env(
            env, "REQUEST_TIMEOUT", ServerSettings.request_timeout, 3600
        ),
        forwarded_allow_ips=_forwarded_allow_ips(env),
    )
