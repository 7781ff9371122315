"""The folder ``service/`` installs as the import package ``popcheck``; nothing installs a
top-level ``service``."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_subpackage_is_listed_for_setuptools() -> None:
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(("popcheck", *init.parent.relative_to(ROOT / "service").parts))
        for init in (ROOT / "service").rglob("__init__.py")
    }
    assert set(listed["packages"]) == on_disk
    assert listed["package-dir"] == {"popcheck": "service"}


def test_import_popcheck_works_outside_the_checkout_and_service_does_not(tmp_path: Path) -> None:
    code = (
        "import importlib.util, popcheck.app\n"
        "assert importlib.util.find_spec('service') is None\n"
        "print(popcheck.app.create_app.__module__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "popcheck.app"
