"""Where an in-process ``POST /assess`` spends its time: pyinstrument over the payload mix.

Not part of ``make bench`` (a profile is for reading, not for comparing runs); run it when
looking for the next thing to remove::

    .venv/bin/python -m bench._profile            # the whole request, through the test client
    .venv/bin/python -m bench._profile --assess   # Assessor.assess alone

Sampling every 100 µs slows the code down, so read shares, not absolute times.
"""

from __future__ import annotations

import argparse
import os

from pyinstrument import Profiler

from bench._payloads import payload_mix

ROUNDS = 60


def main() -> None:
    """Profile the request path (or only the assessment) and print the call tree."""
    parser = argparse.ArgumentParser(prog="python -m bench._profile")
    parser.add_argument("--assess", action="store_true", help="profile Assessor.assess only")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()

    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    from popcheck.app import create_app
    from popcheck.intake import load_request
    from popcheck.jsontext import parse_json_object
    from popcheck.state import get_state

    app = create_app({"TESTING": True})
    client = app.test_client()
    payloads = payload_mix()
    requests = [load_request(parse_json_object(body)) for body in payloads]
    assessor = get_state(app).assessor
    for body in payloads:  # warm up: first calls fill caches and import lazily
        client.post("/assess", data=body, content_type="application/json").close()

    profiler = Profiler(interval=0.0001)
    profiler.start()
    for _ in range(args.rounds):
        if args.assess:
            for request in requests:
                assessor.assess(request)
        else:
            for body in payloads:
                client.post("/assess", data=body, content_type="application/json").close()
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False))


if __name__ == "__main__":
    main()
