"""``make bench``: run every ``bench/*.py`` module's ``main()``, in name order.

Benchmarks print figures; they never pass or fail. A module that crashes is reported and
the others still run (exit status 1 at the end, so a broken benchmark is not silent).
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path


def main() -> int:
    """Run each benchmark module's ``main()``."""
    status = 0
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{path.stem}")
        entry = getattr(module, "main", None)
        if entry is None:
            continue
        print(f"== bench/{path.name}", flush=True)
        try:
            entry()
        except Exception:  # noqa: BLE001 - report and carry on with the other benchmarks
            traceback.print_exc()
            status = 1
        print(flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
