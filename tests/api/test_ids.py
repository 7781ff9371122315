"""The UUIDs popcheck mints (request ids, assessment ids) are well-formed random UUID4s."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

from flask.testing import FlaskClient

from popcheck.observability.requestid import new_uuid4


def test_new_uuid4_is_a_canonical_version_4_uuid() -> None:
    minted = [new_uuid4() for _ in range(2000)]
    for text in minted:
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text
    assert len(set(minted)) == len(minted)
    # Every digit position outside the fixed version digit varies (no stuck bits), and the
    # variant digit takes all four of its values.
    for position in set(range(36)) - {8, 13, 14, 18, 23}:
        assert len({text[position] for text in minted}) > 1, position
    assert {text[19] for text in minted} == set("89ab")


def test_assessment_and_request_ids_are_uuid4(client: FlaskClient) -> None:
    response = client.post("/assess", json={"age": 40})
    for text in (response.get_json()["id"], response.headers["X-Request-ID"]):
        assert uuid.UUID(text).version == 4
        assert str(uuid.UUID(text)) == text


def test_a_forked_child_never_reuses_the_parent_s_ids() -> None:
    new_uuid4()  # the batch is minted and partly unused when the fork happens
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.write(write, " ".join(new_uuid4() for _ in range(10)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split())
    os.waitpid(pid, 0)
    parent = {new_uuid4() for _ in range(200)}
    assert len(child) == 10
    assert not child & parent


def test_threads_never_share_an_id() -> None:
    def mint(_: int) -> list[str]:
        return [new_uuid4() for _ in range(500)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        minted = [text for batch in pool.map(mint, range(8)) for text in batch]
    assert len(set(minted)) == len(minted) == 4000
