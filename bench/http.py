"""HTTP throughput: ``POST /assess`` under ``make run``'s gunicorn configuration
(``deploy/gunicorn.conf.py``: 2 workers of its default class, preloaded, JSON logs) against
the bare Flask app (``bench/_bare_app.py``) under the very same configuration, driven by wrk.

- wrk (Debian's ``wrk``), 64 connections, 2 threads, ``BENCH_SECONDS`` per run (default 15),
  alternating service and bare app A B A B ... for ``BENCH_ROUNDS`` pairs (default 4), each
  POSTing the same payload mix round-robin (``bench/_wrk.lua``); both servers stay up for
  the whole run.
- Per run: req/s, p50/p99, non-2xx (must be 0: a failing endpoint looks fast).
- The ratio service / bare req/s of each pair, and their median (goal: at least 0.85). A
  pair's two runs follow each other, so a shared machine that slows down or speeds up
  between pairs (seen here: 1,870 to 2,570 req/s for the same server within minutes) moves
  both runs of a pair, not the ratio.
- p99 at about 70% of the service's maximum rate: wrk paced by its ``delay()`` hook
  (each connection waits between requests; calibrated once), both servers at the same
  offered rate.
- RSS of every worker before the first run and after the last (must stay flat).
- Worker CPU time per request (user + system, read from ``/proc`` around each run): what
  one request costs a worker, without wrk's own share of the 2 cores. The ratio above is
  roughly bare CPU / service CPU, so this says how many µs stand between it and the goal.
- Then the same pairs for the mix as FHIR QuestionnaireResponses (the same answers,
  ``bench._payloads.questionnaire_response_mix``): the service receives them as
  ``application/fhir+json``, the bare app the very same bytes (it parses them as JSON and
  answers with the same body size as before, the mean of the service's answers), so the
  ratio is like-for-like. ``BENCH_ROUNDS`` pairs of ``BENCH_QR_SECONDS`` each (default half
  of ``BENCH_SECONDS``, at least 2): the QR figures are a second ratio to quote, not the
  headline, so they get shorter runs to keep ``make bench`` within about a minute more.

Only 127.0.0.1; wrk shares the 2 cores with the server, so compare ratios taken in one run,
not absolute figures across machines. Figures are printed, never asserted.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._payloads import ROOT, payload_mix, questionnaire_response_mix

HOST = "127.0.0.1"
CONNECTIONS = 64
THREADS = 2
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "4")))  # pairs: A B A B ...
GOAL_RATIO = 0.85
PACED_SHARE = 0.70
LUA = ROOT / "bench" / "_wrk.lua"
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
JSON = "application/json"
FHIR_JSON = "application/fhir+json"


def _seconds() -> int:
    return max(1, int(os.environ.get("BENCH_SECONDS", "15")))


def _qr_seconds(seconds: int) -> int:
    """Seconds per QuestionnaireResponse run: ``BENCH_QR_SECONDS``, else half of ``seconds``."""
    default = max(2, seconds // 2)
    return max(1, int(os.environ.get("BENCH_QR_SECONDS", str(default))))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """One gunicorn under ``deploy/gunicorn.conf.py`` serving ``target``."""

    name: str
    target: str
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.port = _free_port()
        metrics_dir = self.workdir / f"{self.name}-metrics"
        metrics_dir.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("POPCHECK_", "GUNICORN_"))}
        env.update(
            {
                "HOST": HOST,
                "PORT": str(self.port),
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
                "POPCHECK_DRAIN_FILE": str(self.workdir / f"{self.name}-draining"),
                **self.extra_env,
            }
        )
        log = (self.workdir / f"{self.name}.log").open("wb")
        with log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), self.target],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.workdir / self.name}.log")
            if len(self.workers()) >= 2 and self._answers():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start within 30 s")

    def _answers(self) -> bool:
        request = urllib.request.Request(
            f"http://{HOST}:{self.port}/assess",
            data=b'{"age":40}',
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def workers(self) -> list[int]:
        if self.process is None:
            return []
        # The parent field of every /proc/<pid>/stat (the "children" files need a kernel
        # option not every kernel has). The name may hold spaces: parse after its ")".
        pids: list[int] = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue  # the process ended while we looked
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def rss_mib(self) -> dict[int, float]:
        sizes = {}
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes[pid] = int(line.split()[1]) / 1024
        return sizes

    def cpu_seconds(self) -> float:
        """User + system CPU time of the current workers, in seconds."""
        ticks = 0
        for pid in self.workers():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _wrk(
    wrk: str,
    port: int,
    payloads: Path,
    seconds: int,
    delay_ms: int = 0,
    content_type: str = JSON,
) -> dict[str, Any]:
    env = {**os.environ, "WRK_DELAY_MS": str(delay_ms), "WRK_CONTENT_TYPE": content_type}
    command = [
        wrk,
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://{HOST}:{port}/assess",
        "--",
        str(payloads),
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 60)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr or result.stdout}")
    figures: dict[str, Any] = json.loads(lines[-1])
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def _line(label: str, figures: dict[str, Any]) -> str:
    errors = figures["connect"] + figures["read"] + figures["write"] + figures["timeout"]
    cpu = f"   CPU {figures['cpu_us']:.0f} µs/req" if "cpu_us" in figures else ""
    return (
        f"  {label:<18}{figures['rps']:>9.0f} req/s   p50 {figures['p50_us'] / 1000:6.2f} ms"
        f"   p99 {figures['p99_us'] / 1000:7.2f} ms   non-2xx {figures['non2xx']}"
        f"   socket errors {errors}{cpu}"
    )


def _pairs(
    wrk: str,
    servers: tuple[Server, Server],
    payloads: Path,
    seconds: int,
    content_type: str = JSON,
    tag: str = "",
) -> dict[str, list[dict[str, Any]]]:
    """``ROUNDS`` pairs of wrk runs, A B A B ..., each run's figures (with the workers' CPU
    µs per request) printed as it ends and returned by server name."""
    runs: dict[str, list[dict[str, Any]]] = {server.name: [] for server in servers}
    for round_ in range(ROUNDS):
        for server in servers:
            cpu_before = server.cpu_seconds()
            figures = _wrk(wrk, server.port, payloads, seconds, content_type=content_type)
            figures["cpu_us"] = (server.cpu_seconds() - cpu_before) / figures["requests"] * 1e6
            runs[server.name].append(figures)
            print(_line(f"{server.name}{tag} run {round_ + 1}", figures))
    return runs


@dataclass
class Pairs:
    """What the pairs of runs add up to: each pair's service/bare req/s and their median, the
    mean req/s and median worker CPU µs per request by server, the non-2xx answers."""

    ratios: list[float]
    ratio: float
    mean_rps: dict[str, float]
    cpu_us: dict[str, float]
    non2xx: int

    @classmethod
    def of(cls, runs: dict[str, list[dict[str, Any]]]) -> Pairs:
        ratios = [
            service_run["rps"] / bare_run["rps"]
            for service_run, bare_run in zip(runs["service"], runs["bare"], strict=True)
        ]
        return cls(
            ratios=ratios,
            ratio=statistics.median(ratios),
            mean_rps={name: statistics.mean(f["rps"] for f in done) for name, done in runs.items()},
            cpu_us={
                name: statistics.median(f["cpu_us"] for f in done) for name, done in runs.items()
            },
            non2xx=sum(f["non2xx"] for done in runs.values() for f in done),
        )


def _rss(label: str, sizes: dict[int, float]) -> str:
    shown = ", ".join(f"{pid}: {mib:.1f}" for pid, mib in sizes.items())
    return f"  {label:<18}worker RSS MiB {shown}"


def main() -> None:
    """Start both servers, run wrk A B A B and paced, print every figure."""
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed (apt-get install wrk): HTTP benchmark skipped")
        return
    from bench.inprocess import mean_answer_bytes

    seconds = _seconds()
    workdir = Path(tempfile.mkdtemp(prefix="popcheck-bench-"))
    payloads = payload_mix()
    payload_file = workdir / "payloads.jsonl"
    payload_file.write_bytes(b"\n".join(payloads) + b"\n")
    size = mean_answer_bytes(payloads)
    responses = questionnaire_response_mix(payloads)
    response_file = workdir / "questionnaire-responses.jsonl"
    response_file.write_bytes(b"\n".join(responses) + b"\n")
    # Also proves every QuestionnaireResponse is answered (200), as for the JSON mix.
    response_size = mean_answer_bytes(responses, FHIR_JSON)
    service = Server("service", "popcheck.app:create_app()", workdir)
    bare = Server(
        "bare", "bench._bare_app:create_app()", workdir, {"BENCH_BARE_BODY_BYTES": str(size)}
    )
    try:
        for server in (service, bare):
            server.start()
        # Warm both (first requests fault in pages, fill caches) before measuring memory.
        for server in (service, bare):
            _wrk(wrk, server.port, payload_file, 2)
            _wrk(wrk, server.port, response_file, 1, content_type=FHIR_JSON)
        rss_before = {server.name: server.rss_mib() for server in (service, bare)}
        workers_before = {server.name: server.workers() for server in (service, bare)}

        print(
            f"wrk {CONNECTIONS} connections, {THREADS} threads, {seconds} s per run, "
            f"{len(payloads)} payloads round-robin, bare answer {size} bytes; "
            f"gunicorn -c {CONFIG.relative_to(ROOT)}"
        )
        json_pairs = Pairs.of(_pairs(wrk, (service, bare), payload_file, seconds))
        pairs, ratio, mean_rps = json_pairs.ratios, json_pairs.ratio, json_pairs.mean_rps
        verdict = "meets" if ratio >= GOAL_RATIO else "misses"
        print(
            "service/bare req/s per pair: "
            + " ".join(f"{pair:.2f}" for pair in pairs)
            + f"; median {ratio:.2f} (goal >= {GOAL_RATIO}: {verdict}); "
            f"mean req/s {mean_rps['service']:.0f} / {mean_rps['bare']:.0f}; "
            f"non-2xx over all runs: {json_pairs.non2xx}"
        )

        cpu = json_pairs.cpu_us
        # bare / service CPU = GOAL_RATIO when the service spends this much more per request.
        allowed = cpu["bare"] * (1 / GOAL_RATIO - 1)
        print(
            f"worker CPU per request (median of runs): service {cpu['service']:.0f} µs, "
            f"bare {cpu['bare']:.0f} µs; the service spends {cpu['service'] - cpu['bare']:.0f} "
            f"µs more (at most {allowed:.0f} µs more for {GOAL_RATIO} of the bare app's rate)"
        )

        _questionnaire_responses(
            wrk, (service, bare), response_file, responses, response_size, size, json_pairs
        )

        target = PACED_SHARE * mean_rps["service"]
        print(
            f"paced at ~{PACED_SHARE:.0%} of the service's max ({target:.0f} req/s offered), "
            "wrk delay() per connection, calibrated on the service:"
        )
        delay_ms = _calibrate(wrk, service.port, payload_file, target)
        for server in (service, bare):
            figures = _wrk(wrk, server.port, payload_file, max(5, seconds // 2), delay_ms)
            share = figures["rps"] / mean_rps["service"]
            print(_line(f"{server.name} paced", figures) + f"   ({share:.0%} of service max)")

        rss_after = {server.name: server.rss_mib() for server in (service, bare)}
        for server in (service, bare):
            print(_rss(f"{server.name} before", rss_before[server.name]))
            print(_rss(f"{server.name} after", rss_after[server.name]))
            if server.workers() != workers_before[server.name]:
                print(f"  {server.name}: WORKERS CHANGED during the run (crash or timeout)")
    finally:
        for server in (service, bare):
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _questionnaire_responses(
    wrk: str,
    servers: tuple[Server, Server],
    response_file: Path,
    responses: list[bytes],
    response_size: int,
    size: int,
    json_pairs: Pairs,
) -> None:
    """The pairs again with the QuestionnaireResponse mix, and its two summary lines."""
    seconds = _qr_seconds(_seconds())
    print(
        f"QuestionnaireResponse mix: the same {len(responses)} requests as "
        f"{FHIR_JSON} (mean body {statistics.mean(map(len, responses)):.0f} bytes), "
        f"{seconds} s per run; the service's mean answer {response_size} bytes, the bare "
        f"app's {size}; the bare app gets the same bytes"
    )
    qr = Pairs.of(_pairs(wrk, servers, response_file, seconds, FHIR_JSON, " QR"))
    print(
        "QuestionnaireResponse: service/bare req/s per pair: "
        + " ".join(f"{pair:.2f}" for pair in qr.ratios)
        + f"; median {qr.ratio:.2f} (JSON: {json_pairs.ratio:.2f}); "
        f"mean req/s {qr.mean_rps['service']:.0f} / {qr.mean_rps['bare']:.0f}; "
        f"non-2xx over all runs: {qr.non2xx}"
    )
    cpu, json_cpu = qr.cpu_us, json_pairs.cpu_us
    print(
        f"QuestionnaireResponse: worker CPU per request (median of runs): service "
        f"{cpu['service']:.0f} µs, bare {cpu['bare']:.0f} µs; the service spends "
        f"{cpu['service'] - cpu['bare']:.0f} µs more (JSON: "
        f"{json_cpu['service'] - json_cpu['bare']:.0f} µs more); the service spends "
        f"{cpu['service'] - json_cpu['service']:.0f} µs more than on the same request as JSON"
    )


def _calibrate(wrk: str, port: int, payloads: Path, target: float) -> int:
    """The per-connection delay (ms) that offers about ``target`` req/s.

    Each connection cycles delay + latency, so the first guess (connections / target) ends
    up a little slow; one short probe measures the latency share and corrects for it.
    """
    cycle_ms = CONNECTIONS * 1000 / target
    probe = _wrk(wrk, port, payloads, 3, max(1, round(cycle_ms)))
    latency_ms = max(0.0, CONNECTIONS * 1000 / probe["rps"] - round(cycle_ms))
    return max(1, round(cycle_ms - latency_ms))
