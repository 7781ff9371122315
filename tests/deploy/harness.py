"""Real processes for the deploy tests: ``popcheck serve`` instances and HAProxy on 127.0.0.1.

Every process starts in its own session on a random free port, with its output in files under
the test's ``tmp_path``, and is killed (process group, SIGKILL) at teardown whatever happened.
Every wait is bounded.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT = 30.0

# A valid request that exercises several tables; nothing clinical depends on it here.
ASSESS_BODY = {
    "age": 44,
    "duration_days": 21,
    "onset": "gradual",
    "pain": {"level": 4, "radiates_to_leg": False},
    "stiffness": {"morning_minutes": 20, "range_of_motion": "reduced"},
    "muscles": {"tight": ["lower_back", "hips"], "spasm": False},
}


def free_port() -> int:
    """A port that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` every 50 ms; fail the test with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request on a new connection; ``body`` is sent as JSON unless it is bytes."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        all_headers = dict(headers or {})
        payload: bytes | None = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        return Reply(response.status, dict(response.getheaders()), response.read())
    finally:
        conn.close()


def status_or_none(port: int, path: str) -> int | None:
    """The status of ``GET path``, or ``None`` when nothing answers."""
    try:
        return request(port, "GET", path, timeout=2.0).status
    except OSError:
        return None


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``GET /metrics`` parsed into ``{(sample name, sorted labels): value}``."""
    reply = request(port, "GET", "/metrics")
    assert reply.status == 200, reply.body[:500]
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(reply.body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(
    samples: Mapping[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    """Sum of every sample called ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(
        value
        for (sample, label_items), value in samples.items()
        if sample == name and wanted <= set(label_items)
    )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - the kernel did not reap it
        pass
    # gunicorn and its workers share the session; make sure none survives its supervisor.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Serve:
    """A ``popcheck serve`` process (gunicorn under the drain supervisor)."""

    name: str
    port: int
    workdir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    runs: int = 0
    outputs: list[Path] = field(default_factory=list)

    @property
    def metrics_dir(self) -> Path:
        return Path(self.env["PROMETHEUS_MULTIPROC_DIR"])

    def start(self, wait_ready: bool = True, args: tuple[str, ...] = ()) -> None:
        """Start (or restart) the instance, ``args`` after ``popcheck serve``; by default wait
        until ``/readyz`` is 200."""
        self.runs += 1
        stdout = self.workdir / f"{self.name}-{self.runs}.out"
        stderr = self.workdir / f"{self.name}-{self.runs}.err"
        self.outputs += [stdout, stderr]
        with stdout.open("wb") as out, stderr.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "popcheck.cli", "serve", *args],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        if wait_ready:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Wait until ``/readyz`` answers 200 (fails fast if the process died)."""

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.output()}"
                )
            return status_or_none(self.port, "/readyz") == 200

        wait_until(ready, START_TIMEOUT, f"{self.name} to become ready")

    def terminate(self) -> None:
        """Send SIGTERM to the supervisor only, as Kubernetes does to PID 1."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for the process to exit; its exit status."""
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        """Everything the instance wrote so far, stdout and stderr of every run."""
        return "\n".join(path.read_text(errors="replace") for path in self.outputs if path.exists())

    def output_lines(self) -> list[str]:
        """Every non-empty line written to stdout or stderr, all runs."""
        return [line for line in self.output().splitlines() if line.strip()]

    def kill(self) -> None:
        if self.process is not None:
            _kill_group(self.process)


class Processes:
    """Starts instances for one test and kills whatever is left at teardown."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._serves: list[Serve] = []
        self._others: list[subprocess.Popen[bytes]] = []

    def serve(
        self,
        name: str = "popcheck",
        *,
        workers: int = 2,
        drain_seconds: float = 1.0,
        extra_env: Mapping[str, str] | None = None,
        start: bool = True,
    ) -> Serve:
        """A ``popcheck serve`` on a free port with its own metrics directory."""
        metrics_dir = self.workdir / f"{name}-metrics"
        metrics_dir.mkdir(exist_ok=True)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("POPCHECK_", "GUNICORN_"))
        }
        env.update(
            {
                "HOST": HOST,
                "PORT": str(free_port()),
                "WORKERS": str(workers),
                "POPCHECK_DRAIN_SECONDS": str(drain_seconds),
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
                "POPCHECK_LOG_LEVEL": "INFO",
                # serve's own temporary directories land here, even when teardown SIGKILLs it.
                "TMPDIR": str(self.workdir),
            }
        )
        env.update(extra_env or {})
        # A test of a bad PORT starts no server, so it has no port either.
        port = int(env["PORT"]) if env["PORT"].isdigit() else 0
        instance = Serve(name=name, port=port, workdir=self.workdir, env=env)
        self._serves.append(instance)
        if start:
            instance.start()
        return instance

    def spawn(
        self, command: list[str], name: str, env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Any other process (haproxy), output to ``<name>.log``, killed at teardown."""
        log = (self.workdir / f"{name}.log").open("wb")
        with log:
            process = subprocess.Popen(
                command,
                cwd=REPO,
                env=dict(env) if env is not None else None,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._others.append(process)
        return process

    def cleanup(self) -> None:
        for instance in self._serves:
            instance.kill()
            # Captured by pytest and shown only when the test failed.
            tail = instance.output_lines()[-40:]
            print(f"--- {instance.name} (port {instance.port}), last lines:", *tail, sep="\n")
        for process in self._others:
            _kill_group(process)
