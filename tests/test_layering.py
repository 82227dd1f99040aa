"""The package's layering: no import circle, and each area imports only what it may.

Read from the source (ast), so the test sees every import, lazy ones inside functions included.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dhanvantri"


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str] | frozenset[str] = frozenset()) -> Iterator[str]:
    """Modules ``path`` imports (``from a import b``: ``a.b`` when that is one of ``modules``)."""
    here = _module(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield sub if sub in modules else target


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path, set(files)) if m in files and m != name}
            for name, path in files.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, or None (depth-first search with colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _importers(prefix: str, target: str) -> list[str]:
    return sorted(f"{name} -> {dep}" for name, deps in _graph().items()
                  if name.startswith(prefix) for dep in deps if dep.startswith(target))


def test_no_import_circle() -> None:
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()) or [])


@pytest.mark.parametrize("library", ["privacy", "knowledge", "pipeline", "http", "avatar"])
def test_libraries_import_no_server_area(library: str) -> None:
    for area in ("realtime", "desk", "platform"):
        assert not _importers(f"dhanvantri.{library}", f"dhanvantri.{area}"), area


@pytest.mark.parametrize("library", ["privacy", "knowledge"])
def test_pure_libraries_import_no_pipeline(library: str) -> None:
    assert not _importers(f"dhanvantri.{library}", "dhanvantri.pipeline")


def test_desk_imports_no_transport() -> None:
    assert not _importers("dhanvantri.desk", "dhanvantri.realtime")


def test_realtime_reaches_the_back_office_only_through_http() -> None:
    """``realtime.app`` is the composition root: it installs the back office and the desk."""
    reached = [line for line in _importers("dhanvantri.realtime", "dhanvantri.platform")
               if not line.startswith("dhanvantri.realtime.app ")]
    assert not reached


def test_aiortc_only_in_transport() -> None:
    users = sorted(_module(p) for p in PACKAGE.rglob("*.py")
                   if any(m.split(".")[0] == "aiortc" for m in _imports(p)))
    assert all(u.startswith("dhanvantri.realtime.transport") for u in users), users
