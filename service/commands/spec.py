"""``popcheck spec [-o FILE]``: write the OpenAPI document (what ``make spec`` runs).

The document is built from the marshmallow schemas and ``service/api/spec_paths.yaml``
(``popcheck.api.spec``); this only writes it, to stdout or to ``FILE``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from popcheck.api.spec import render_spec

EXIT_OK = 0


def register(subparsers: Any) -> None:
    """Add ``spec`` to the ``popcheck`` command."""
    parser = subparsers.add_parser(
        "spec",
        help="write the OpenAPI document (openapi.yaml) built from the schemas",
        description="Build the OpenAPI 3.1 document from the marshmallow schemas and "
        "service/api/spec_paths.yaml, and write it.",
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="write to this file instead of standard output"
    )
    parser.set_defaults(func=write_spec)


def write_spec(args: argparse.Namespace) -> int:
    """Build the whole document first, so a failure never leaves ``FILE`` half-written."""
    document = render_spec()
    if args.output is None:
        sys.stdout.buffer.write(document)
        sys.stdout.buffer.flush()
    else:
        args.output.write_bytes(document)
    return EXIT_OK
