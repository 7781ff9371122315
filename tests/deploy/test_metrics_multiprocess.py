"""/metrics is exact over several real gunicorn workers, with and without worker recycling."""

from __future__ import annotations

import time

import pytest

from popcheck.app import create_app
from popcheck.observability.metrics import RULE_HIT_FLUSH_SECONDS
from popcheck.state import get_state
from tests.deploy.harness import ASSESS_BODY, Processes, request, scrape, total

pytestmark = pytest.mark.slow

WORKERS = 3
ASSESSMENTS = 45
SCRAPES = 12  # several per worker: connections land on whichever worker accepts first


def _assess(port: int, count: int) -> None:
    for _ in range(count):
        reply = request(port, "POST", "/assess", ASSESS_BODY)
        assert reply.status == 200, reply.body[:500]


@pytest.fixture(scope="module")
def hits_per_assessment() -> int:
    """How many rules fire for ``ASSESS_BODY``, computed in-process from the same tables."""
    fired: list[tuple[str, str]] = []
    get_state(create_app({"TESTING": True})).assessor.assess(ASSESS_BODY, fired=fired)
    assert fired
    return len(fired)


def _assert_every_scrape_exact(port: int, expected: int, hits_per_assessment: int) -> None:
    # Rule hits reach the shared files within RULE_HIT_FLUSH_SECONDS of the last request.
    time.sleep(RULE_HIT_FLUSH_SECONDS + 0.5)
    for _ in range(SCRAPES):
        samples = scrape(port)
        assert total(samples, "popcheck_assessments_total") == expected
        assert (
            total(
                samples,
                "popcheck_http_requests_total",
                method="POST",
                route="/assess",
                status="200",
            )
            == expected
        )
        assert (
            total(
                samples,
                "popcheck_http_request_duration_seconds_count",
                method="POST",
                route="/assess",
            )
            == expected
        )
        assert total(samples, "popcheck_rule_hits_total") == expected * hits_per_assessment
        # One series for the ruleset however many workers published it.
        info = [key for key in samples if key[0] == "popcheck_ruleset_info"]
        assert len(info) == 1 and samples[info[0]] == 1.0


@pytest.mark.parametrize("max_requests", [0, 7], ids=["no-recycling", "recycle-every-7"])
def test_every_scrape_counts_exactly_n_assessments(
    procs: Processes, max_requests: int, hits_per_assessment: int
) -> None:
    # max_requests is small here only to force recycling; production keeps it off.
    instance = procs.serve(
        workers=WORKERS,
        extra_env={"GUNICORN_CMD_ARGS": f"--max-requests {max_requests} --max-requests-jitter 0"},
    )
    _assess(instance.port, ASSESSMENTS)
    _assert_every_scrape_exact(instance.port, ASSESSMENTS, hits_per_assessment)
    _assess(instance.port, 5)
    _assert_every_scrape_exact(instance.port, ASSESSMENTS + 5, hits_per_assessment)

    live_gauge_files = list(instance.metrics_dir.glob("gauge_live*.db"))
    if max_requests:
        # Recycling happened, and child_exit removed the dead workers' live gauges.
        assert len(list(instance.metrics_dir.glob("counter_*.db"))) > WORKERS
    assert len(live_gauge_files) <= WORKERS


def test_a_restart_in_the_same_directory_starts_from_zero(procs: Processes) -> None:
    instance = procs.serve(workers=2)
    _assess(instance.port, 4)
    assert total(scrape(instance.port), "popcheck_assessments_total") == 4
    instance.terminate()
    assert instance.wait() == 0

    instance.start()  # same PROMETHEUS_MULTIPROC_DIR: on_starting wipes it
    _assess(instance.port, 3)
    assert total(scrape(instance.port), "popcheck_assessments_total") == 3
