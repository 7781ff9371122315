"""One app, many threads (gunicorn's gthread worker): the same request gets the same answer,
but for ``id``, whichever thread serves it."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from tests.api.support import ROOT

EXAMPLES = [p.read_bytes() for p in sorted((ROOT / "examples").glob("*.json"))]


def _without_id(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "id"}


def test_threads_share_one_app_safely(app: Flask) -> None:
    client = app.test_client()
    expected = [
        _without_id(
            client.post(
                "/assess?explain=true", data=body, content_type="application/json"
            ).get_json()
        )
        for body in EXAMPLES
    ]

    def worker(seed: int) -> list[tuple[int, dict[str, Any], str]]:
        own = app.test_client()
        seen = []
        for step in range(40):
            index = (seed + step) % len(EXAMPLES)
            response = own.post(
                "/assess?explain=true", data=EXAMPLES[index], content_type="application/json"
            )
            assert response.status_code == 200
            body = json.loads(response.get_data())
            seen.append((index, _without_id(body), body["id"]))
        return seen

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [item for batch in pool.map(worker, range(8)) for item in batch]
    for index, body, _ in results:
        assert body == expected[index]
    ids = [identifier for _, _, identifier in results]
    assert len(set(ids)) == len(ids)
