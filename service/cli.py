"""The ``popcheck`` command. Each subcommand lives in ``service/commands/`` and registers
itself through ``register(subparsers)``; this module only dispatches."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from popcheck.commands import assess, rules, serve, spec


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="popcheck",
        description="Triage for a back that no longer pops: serve the API, check and test rules.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (serve, rules, assess, spec):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
