"""Calling popcheck from Python with the client openapi-python-client generates from its spec.

Generate the client (again whenever openapi.yaml changes), from the repository root::

    openapi-python-client generate --path openapi.yaml --meta none \\
        --config examples/clients/openapi-python-client.yaml --output-path popcheck_client

then, with the service running (``make run``) and ``popcheck_client`` importable::

    python examples/clients/assess.py http://127.0.0.1:8080 examples/sciatica.json

It prints the urgency, red flags, causes and what to do; for an invalid request (422) each
field's messages, and exits 1. ``POPCHECK_API_KEY`` in the environment is sent as the bearer
token, for a service with API keys configured.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from popcheck_client import AuthenticatedClient, Client
from popcheck_client.api.assessment import assess
from popcheck_client.models import Assessment, AssessmentRequest, Problem, ValidationProblem


def main(base_url: str, request_file: str) -> int:
    request = AssessmentRequest.from_dict(json.loads(Path(request_file).read_text()))
    key = os.environ.get("POPCHECK_API_KEY")
    client = AuthenticatedClient(base_url=base_url, token=key) if key else Client(base_url=base_url)
    with client:
        # The spec lists bearer auth as optional for /assess; the generated signature asks
        # for an AuthenticatedClient, but a plain Client is what an open service needs.
        answer = assess.sync(client=client, body=request)  # type: ignore[arg-type]
    if isinstance(answer, Assessment):
        print(f"{answer.urgency.level.value}: {answer.urgency.seek_care}")
        for flag in answer.red_flags:
            print(f"red flag: {flag.label}")
        for cause in answer.causes:
            print(f"{cause.likelihood.value} cause: {cause.label}")
        for step in answer.recommendations:
            dose = f" ({step.dose})" if step.dose else ""  # None for referrals, precautions
            print(f"{step.type_.value}: {step.label}{dose}")  # `type` is `type_`
        return 0
    if isinstance(answer, ValidationProblem):
        # `errors` is always there on a 422: field path -> messages.
        for path, messages in answer.errors.additional_properties.items():
            print(f"{path}: {' '.join(messages)}", file=sys.stderr)
        return 1
    if isinstance(answer, Problem):
        print(f"{answer.status} {answer.title}: {answer.detail}", file=sys.stderr)
        return 1
    print("no answer the spec describes", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
