"""The Python client callers generate from ``openapi.yaml`` (openapi-python-client, a dev
dependency), generated once per session into a temporary folder and imported from there."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "clients" / "openapi-python-client.yaml"
PACKAGE = "popcheck_client"


@dataclass(frozen=True)
class Generated:
    """The generator's run: where the package is, and what it said."""

    folder: Path
    output: str


def generate(spec: Path, folder: Path) -> Generated:
    """``openapi-python-client generate`` as a caller runs it, with the examples' config."""
    command = [
        str(Path(sys.executable).with_name("openapi-python-client")),
        "generate",
        "--path",
        str(spec),
        "--config",
        str(CONFIG),
        "--meta",
        "none",
        "--output-path",
        str(folder / PACKAGE),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return Generated(folder, output)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    return generate(ROOT / "openapi.yaml", tmp_path_factory.mktemp("client"))


@pytest.fixture(scope="session")
def popcheck_client(generated: Generated) -> Iterator[ModuleType]:
    """The generated package, imported from its temporary folder."""
    sys.path.insert(0, str(generated.folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(generated.folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
