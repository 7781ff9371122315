"""The engine's modules import each other without a cycle (``model`` is the root).

A cycle hides behind ``TYPE_CHECKING`` imports and function-level imports just as well,
so every ``import`` statement anywhere in a module counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import popcheck.engine

ENGINE = Path(popcheck.engine.__file__).resolve().parent
PACKAGE = "popcheck.engine"


def _imports(path: Path) -> set[str]:
    """The engine modules that ``path`` imports, by module name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in names if name.split(".")[:2] == PACKAGE.split("."))
    return found


def engine_graph() -> dict[str, set[str]]:
    """Module -> the engine modules it imports; the package (``__init__``) is one of them,
    so a module that imports from ``popcheck.engine`` itself closes a cycle through it."""
    modules = {f"{PACKAGE}.{path.stem}": path for path in ENGINE.glob("*.py")}
    modules[PACKAGE] = modules.pop(f"{PACKAGE}.__init__")
    return {name: _imports(path) & modules.keys() - {name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, closed (``a -> b -> a``), or ``None``."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name) :] + [name]
        if name in done:
            return None
        for dep in sorted(graph[name]):
            cycle = visit(dep, path + [name])
            if cycle is not None:
                return cycle
        done.add(name)
        return None

    for name in sorted(graph):
        cycle = visit(name, [])
        if cycle is not None:
            return cycle
    return None


def test_the_engine_modules_import_each_other_without_a_cycle() -> None:
    graph = engine_graph()
    assert f"{PACKAGE}.model" in graph
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_model_imports_no_other_engine_module_but_errors() -> None:
    assert engine_graph()[f"{PACKAGE}.model"] <= {f"{PACKAGE}.errors"}


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
