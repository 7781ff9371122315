"""Worker classes against slow clients: gunicorn's sync, gthread and gevent workers and the
shipped default (``deploy/gunicorn.conf.py`` as it is), each reached directly and through the
shipped HAProxy (``deploy/haproxy.cfg``), on the same payload mix as ``bench/http.py``.

For every (worker class, front) pair, with the service and the bare Flask app
(``bench/_bare_app.py``) both under ``deploy/gunicorn.conf.py`` with the same settings:

- throughput: wrk service / bare, alternated in ``BENCH_SLOW_ROUNDS`` pairs (default 2) of
  ``BENCH_SLOW_SECONDS`` (default 4) s; the median of the pairs' ratios;
- p99 of the service at about 70% of its measured maximum (wrk paced by ``delay()``);
- two attacks on the service, each by ``SLOW_SOCKETS`` (256) connections held ``HOLD`` s:
  ``half-line`` sends half a request line and waits; ``trickle`` sends a complete head with
  ``Content-Length: 300`` and then one body byte a second. Meanwhile a normal ``POST /assess``
  and a ``GET /readyz`` are started every half second, each on a new connection with a 3 s
  timeout: the table shows how many answered within 1 s (``/assess``) and within 2 s (the
  readiness probe's ``timeoutSeconds``), and the slowest.

Finally, the default configuration alone: how long the server lets each kind of slow client
hold its connection before cutting it off (bounded at ``CUTOFF_WAIT`` s).

Last, the choice itself head to head (``BENCH_SLOW_H2H_ROUNDS``, default 5, rounds of
interleaved runs): sync, the default, gunicorn's gevent and sync behind HAProxy, with worker
CPU per request. About 8 minutes in all; ``BENCH_SLOW_ONLY`` (labels, or ``head-to-head``,
comma-separated) runs a part.

Only 127.0.0.1; every loop is bounded in count and time. Figures are printed, never asserted;
wrk and the attackers share the 2 cores with the servers, so compare the ratios within one
run, not absolute figures across runs.
"""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._payloads import ROOT, payload_mix
from bench.http import HOST, PACED_SHARE, Server, _calibrate, _free_port, _wrk

ROUNDS = max(1, int(os.environ.get("BENCH_SLOW_ROUNDS", "2")))
SECONDS = max(1, int(os.environ.get("BENCH_SLOW_SECONDS", "4")))
ROUNDS_H2H = max(1, int(os.environ.get("BENCH_SLOW_H2H_ROUNDS", "5")))
SLOW_SOCKETS = 256
HOLD = 5.0
PROBE_EVERY = 0.5
PROBE_TIMEOUT = 3.0
ASSESS_WITHIN = 1.0
READYZ_WITHIN = 2.0  # the Deployment's readinessProbe timeoutSeconds
CUTOFF_WAIT = 20.0
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
TRICKLE_LENGTH = 300
ASSESS_BODY = b'{"age": 44, "duration_days": 21, "onset": "gradual"}'

# (label, environment for deploy/gunicorn.conf.py); "default" sets nothing. gthread keeps
# connections alive for 75 s (what the config offered it before); the others close each one.
CONFIGS: list[tuple[str, dict[str, str]]] = [
    ("sync 2", {"WORKER_CLASS": "sync", "THREADS": "1", "KEEPALIVE": "0"}),
    ("gthread 2x4", {"WORKER_CLASS": "gthread", "THREADS": "4", "KEEPALIVE": "75"}),
    ("gevent 2", {"WORKER_CLASS": "gevent", "THREADS": "1", "KEEPALIVE": "0"}),
    ("default", {}),
]


@dataclass
class HAProxy:
    """``haproxy -f deploy/haproxy.cfg`` with both of its servers pointing at ``backend``."""

    name: str
    backend: int
    workdir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            "POPCHECK_LB_BIND": f"{HOST}:{self.port}",
            "POPCHECK_A": f"{HOST}:{self.backend}",
            "POPCHECK_B": f"{HOST}:{self.backend}",
            "POPCHECK_LB_STATS": str(self.workdir / f"{self.name}.sock"),
        }
        with (self.workdir / f"{self.name}.log").open("wb") as log:
            self.process = subprocess.Popen(
                ["haproxy", "-db", "-f", str(HAPROXY_CFG)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if _status(self.port, "GET", "/readyz", None, 2.0)[0] == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not pass traffic within 15 s")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the haproxy process, in seconds."""
        assert self.process is not None
        stat = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _status(
    port: int, method: str, path: str, body: bytes | None, timeout: float
) -> tuple[int | None, float]:
    """(status or None, seconds) of one request on a new connection."""
    started = time.monotonic()
    request = urllib.request.Request(
        f"http://{HOST}:{port}{path}",
        data=body,
        method=method,
        headers={"Content-Type": "application/json"} if body is not None else {},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status: int | None = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = None
    return status, time.monotonic() - started


@dataclass
class Attack:
    """``count`` slow connections to ``port``, held until ``stop()``."""

    kind: str  # "half-line" or "trickle"
    port: int
    count: int = SLOW_SOCKETS
    sockets: list[socket.socket] = field(default_factory=list)
    opened: float = 0.0
    closed_after: dict[int, float] = field(default_factory=dict)  # fd -> seconds held
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self.opened = time.monotonic()
        for _ in range(self.count):
            sock = socket.create_connection((HOST, self.port), timeout=5)
            sock.setblocking(False)
            self.sockets.append(sock)
            if self.kind == "half-line":
                sock.send(b"POST /assess HTT")
            else:
                sock.send(
                    b"POST /assess HTTP/1.1\r\nHost: popcheck\r\nContent-Type: application/json"
                    b"\r\nContent-Length: " + str(TRICKLE_LENGTH).encode() + b"\r\n\r\n{"
                )
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # One byte a second on every open trickle socket; notice when the server hangs up.
        selector = selectors.DefaultSelector()
        for sock in self.sockets:
            selector.register(sock, selectors.EVENT_READ)
        next_byte = time.monotonic() + 1.0
        sent = 1
        while not self._stop.is_set() and len(self.closed_after) < len(self.sockets):
            for key, _ in selector.select(timeout=0.1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                if not data:  # the server closed it (an answer, if any, came before)
                    self.closed_after[sock.fileno()] = time.monotonic() - self.opened
                    selector.unregister(sock)
            if self.kind == "trickle" and time.monotonic() >= next_byte:
                next_byte += 1.0
                if sent < TRICKLE_LENGTH - 1:
                    sent += 1
                    for sock in self.sockets:
                        if sock.fileno() not in self.closed_after:
                            try:
                                sock.send(b" ")
                            except OSError:
                                pass
        selector.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


def _probe_during(port: int, hold: float) -> dict[str, list[tuple[int | None, float]]]:
    """Normal requests started every PROBE_EVERY s for ``hold`` s, each on its own thread."""
    results: dict[str, list[Any]] = {"assess": [], "readyz": []}
    count = int(hold / PROBE_EVERY)
    with ThreadPoolExecutor(max_workers=2 * count) as pool:
        futures = []
        started = time.monotonic()
        for i in range(count):
            time.sleep(max(0.0, started + i * PROBE_EVERY - time.monotonic()))
            futures.append(
                (
                    "assess",
                    pool.submit(_status, port, "POST", "/assess", ASSESS_BODY, PROBE_TIMEOUT),
                )
            )
            futures.append(
                ("readyz", pool.submit(_status, port, "GET", "/readyz", None, PROBE_TIMEOUT))
            )
        for name, future in futures:
            results[name].append(future.result())
    return results


def _attack(kind: str, port: int) -> str:
    attack = Attack(kind, port)
    try:
        attack.start()
        time.sleep(0.5)  # the server has seen every slow client
        probes = _probe_during(port, HOLD)
    finally:
        attack.stop()
    parts = []
    for name, within in (("assess", ASSESS_WITHIN), ("readyz", READYZ_WITHIN)):
        done = probes[name]
        good = sum(1 for status, took in done if status == 200 and took <= within)
        slowest = max(took for _, took in done)
        failed = sum(1 for status, _ in done if status is None)
        parts.append(
            f"{name} {good}/{len(done)} within {within:.0f} s (slowest {slowest:.2f} s"
            + (f", {failed} unanswered in {PROBE_TIMEOUT:.0f} s" if failed else "")
            + ")"
        )
    return f"{kind:<9} " + "; ".join(parts)


def _cutoff(kind: str, port: int) -> str:
    attack = Attack(kind, port, count=16)
    try:
        attack.start()
        deadline = time.monotonic() + CUTOFF_WAIT
        while time.monotonic() < deadline and len(attack.closed_after) < attack.count:
            time.sleep(0.1)
        held = sorted(attack.closed_after.values())
    finally:
        attack.stop()
    if not held:
        return f"{kind:<9} none of {attack.count} cut off within {CUTOFF_WAIT:.0f} s"
    return (
        f"{kind:<9} {len(held)}/{attack.count} cut off within {CUTOFF_WAIT:.0f} s, "
        f"after {held[0]:.1f} to {held[-1]:.1f} s"
    )


def _measure(
    wrk: str,
    label: str,
    env: dict[str, str],
    front: str,
    workdir: Path,
    payload_file: Path,
    size: int,
) -> None:
    tag = f"{label.replace(' ', '-')}-{front}"
    service = Server(f"service-{tag}", "popcheck.app:create_app()", workdir, dict(env))
    bare = Server(
        f"bare-{tag}",
        "bench._bare_app:create_app()",
        workdir,
        {**env, "BENCH_BARE_BODY_BYTES": str(size)},
    )
    proxies: list[HAProxy] = []
    try:
        for server in (service, bare):
            server.start()
        ports = {"service": service.port, "bare": bare.port}
        if front == "haproxy":
            for name in ("service", "bare"):
                proxy = HAProxy(f"haproxy-{name}-{tag}", ports[name], workdir)
                proxy.start()
                proxies.append(proxy)
                ports[name] = proxy.port
        for port in ports.values():
            _wrk(wrk, port, payload_file, 1)  # warm
        rps: dict[str, list[float]] = {"service": [], "bare": []}
        for _ in range(ROUNDS):
            for name in ("service", "bare"):
                rps[name].append(_wrk(wrk, ports[name], payload_file, SECONDS)["rps"])
        ratios = [s / b for s, b in zip(rps["service"], rps["bare"], strict=True)]
        peak = statistics.mean(rps["service"])
        delay_ms = _calibrate(wrk, ports["service"], payload_file, PACED_SHARE * peak)
        paced = _wrk(wrk, ports["service"], payload_file, SECONDS, delay_ms)
        print(
            f"  {label:<12} {front:<8} service {peak:6.0f} req/s, bare "
            f"{statistics.mean(rps['bare']):6.0f}; service/bare "
            + " ".join(f"{r:.2f}" for r in ratios)
            + f" (median {statistics.median(ratios):.2f}); p99 at "
            f"{paced['rps'] / peak:.0%} load {paced['p99_us'] / 1000:.1f} ms",
            flush=True,
        )
        for kind in ("half-line", "trickle"):
            print(f"  {'':<12} {front:<8} {_attack(kind, ports['service'])}", flush=True)
        if label == "default" and front == "direct":
            for kind in ("half-line", "trickle"):
                print(f"  {'':<12} {front:<8} {_cutoff(kind, ports['service'])}", flush=True)
    finally:
        for proxy in proxies:
            proxy.stop()
        for server in (service, bare):
            server.stop()


def _head_to_head(wrk: str, workdir: Path, payload_file: Path, size: int) -> None:
    """The choice itself, interleaved: sync before, the default after, gunicorn's own gevent
    worker (what the deadline costs), and sync behind a buffering HAProxy (the other way to
    survive slow clients), each run right after the others so the machine's drift moves
    them together."""
    sync = {"WORKER_CLASS": "sync", "THREADS": "1", "KEEPALIVE": "0"}
    bare_env = {"BENCH_BARE_BODY_BYTES": str(size)}
    servers = {
        "sync service": Server("h2h-sync", "popcheck.app:create_app()", workdir, sync),
        "sync bare": Server(
            "h2h-sync-bare", "bench._bare_app:create_app()", workdir, {**sync, **bare_env}
        ),
        "default service": Server("h2h-default", "popcheck.app:create_app()", workdir, {}),
        "gevent service": Server(
            "h2h-gevent",
            "popcheck.app:create_app()",
            workdir,
            {"WORKER_CLASS": "gevent", "THREADS": "1", "KEEPALIVE": "0"},
        ),
        "default bare": Server(
            "h2h-default-bare", "bench._bare_app:create_app()", workdir, bare_env
        ),
    }
    proxy: HAProxy | None = None
    try:
        for server in servers.values():
            server.start()
        proxy = HAProxy("h2h-haproxy", servers["sync service"].port, workdir)
        proxy.start()
        targets: dict[str, tuple[int, list[Server], HAProxy | None]] = {
            name: (server.port, [server], None) for name, server in servers.items()
        }
        targets["sync service behind haproxy"] = (proxy.port, [servers["sync service"]], proxy)
        order = [
            "sync service",
            "sync bare",
            "default service",
            "default bare",
            "gevent service",
            "sync service behind haproxy",
        ]
        for port, _, _ in targets.values():
            _wrk(wrk, port, payload_file, 1)  # warm
        rps: dict[str, list[float]] = {name: [] for name in order}
        cpu: dict[str, list[float]] = {name: [] for name in order}
        for _ in range(ROUNDS_H2H):
            for name in order:
                port, behind, front = targets[name]
                before = sum(s.cpu_seconds() for s in behind) + (
                    front.cpu_seconds() if front else 0
                )
                figures = _wrk(wrk, port, payload_file, SECONDS)
                after = sum(s.cpu_seconds() for s in behind) + (front.cpu_seconds() if front else 0)
                rps[name].append(figures["rps"])
                cpu[name].append((after - before) / figures["requests"] * 1e6)
        print(f"  head to head, {ROUNDS_H2H} rounds of {len(order)} interleaved {SECONDS} s runs:")
        for name in order:
            print(
                f"    {name:<28} req/s "
                + " ".join(f"{r:5.0f}" for r in rps[name])
                + f"   CPU µs/req (workers{' + haproxy' if 'haproxy' in name else ''}) median "
                f"{statistics.median(cpu[name]):.0f}"
            )

        def ratio(a: str, b: str) -> str:
            pairs = [x / y for x, y in zip(rps[a], rps[b], strict=True)]
            return " ".join(f"{p:.2f}" for p in pairs) + f" (median {statistics.median(pairs):.2f})"

        print(f"    service/bare, sync (before):          {ratio('sync service', 'sync bare')}")
        print(
            f"    service/bare, default (after):        {ratio('default service', 'default bare')}"
        )
        print(
            f"    default / sync service:               {ratio('default service', 'sync service')}"
        )
        print(
            "    default / gunicorn's gevent service:  "
            f"{ratio('default service', 'gevent service')}"
        )
        print(
            "    sync behind haproxy / sync:           "
            f"{ratio('sync service behind haproxy', 'sync service')}"
        )
        print(
            "    default / sync behind haproxy:        "
            f"{ratio('default service', 'sync service behind haproxy')}"
        )
    finally:
        if proxy is not None:
            proxy.stop()
        for server in servers.values():
            server.stop()


def main() -> None:
    """Every worker class, directly and behind HAProxy: throughput, p99, slow clients."""
    wrk = shutil.which("wrk")
    missing = [tool for tool in ("wrk", "haproxy") if shutil.which(tool) is None]
    if wrk is None or missing:
        print(f"{' and '.join(missing)} not installed (apt-get install wrk haproxy): skipped")
        return
    from bench.inprocess import mean_answer_bytes

    workdir = Path(tempfile.mkdtemp(prefix="popcheck-slow-"))
    payload_file = workdir / "payloads.jsonl"
    payloads = payload_mix()
    payload_file.write_bytes(b"\n".join(payloads) + b"\n")
    size = mean_answer_bytes(payloads)
    print(
        f"{ROUNDS} pairs of {SECONDS} s wrk runs per row; attacks: {SLOW_SOCKETS} sockets "
        f"held {HOLD:.0f} s, probes every {PROBE_EVERY} s"
    )
    only = os.environ.get("BENCH_SLOW_ONLY")
    try:
        for label, env in CONFIGS:
            if only and label not in only.split(","):
                continue
            for front in ("direct", "haproxy"):
                try:
                    _measure(wrk, label, env, front, workdir, payload_file, size)
                except RuntimeError as error:  # a class that cannot start is a figure too
                    print(f"  {label:<12} {front:<8} could not run: {error}", flush=True)
        if not only or "head-to-head" in only.split(","):
            _head_to_head(wrk, workdir, payload_file, size)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
