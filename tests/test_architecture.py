"""The layout keeps its promises (docs/ARCHITECTURE.md): few modules directly in `credentials/`,
none too long, no import cycle, and a domain that never reaches an HTTP client. Read from the
source with `ast`, so a function-level import counts and an `if TYPE_CHECKING:` one does not."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

pytestmark = pytest.mark.database_independent(reason="reads the source")

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("credentials", "swrconsole")
MAX_MODULES_DIRECTLY_IN_CREDENTIALS = 12
MAX_LINES = 450
DOMAIN = "credentials.models"
# A module speaks HTTP when it imports an HTTP client.
HTTP_CLIENTS = ("requests", "urllib3", "httpx", "aiohttp", "http.client", "urllib.request")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    }


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for orelse in child.orelse:
                yield from _runtime_imports(orelse)
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _runtime_imports(child)


def _imported_names(module: str) -> Iterator[str]:
    """Every dotted name `module` imports at run time, absolute, at any depth in its code."""
    path = _modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in _runtime_imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        yield base
        yield from (f"{base}.{alias.name}" for alias in node.names)


@cache
def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module in modules:
        targets = set()
        for name in _imported_names(module):
            # `from a import b` names module a.b when there is one, else a name in a.
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _speaks_http(module: str) -> bool:
    return any(
        name == client or name.startswith(f"{client}.")
        for name in _imported_names(module)
        for client in HTTP_CLIENTS
    )


def test_at_most_twelve_python_modules_sit_directly_in_credentials() -> None:
    flat = sorted(path.name for path in (ROOT / "credentials").glob("*.py"))
    assert len(flat) <= MAX_MODULES_DIRECTLY_IN_CREDENTIALS, (
        f"{len(flat)} modules directly in credentials/ (at most "
        f"{MAX_MODULES_DIRECTLY_IN_CREDENTIALS}): {', '.join(flat)}"
    )


def test_no_module_is_longer_than_450_lines() -> None:
    long = {
        module: lines
        for module, path in _modules().items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"over {MAX_LINES} lines: {long}"


def test_no_import_cycle_among_the_projects_modules() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" ↔ ".join(c) for c in cycles)


def test_the_domain_imports_no_module_that_speaks_http() -> None:
    graph = _graph()
    domain = [m for m in graph if m == DOMAIN or m.startswith(f"{DOMAIN}.")]
    reached: dict[str, str] = {}  # module → the domain module whose imports lead to it
    todo = [(m, m) for m in domain]
    while todo:
        module, origin = todo.pop()
        if module in reached:
            continue
        reached[module] = origin
        todo.extend((target, origin) for target in graph[module])
    speaking = sorted(f"{m} (from {origin})" for m, origin in reached.items() if _speaks_http(m))
    assert not speaking, f"the domain reaches modules that speak HTTP: {', '.join(speaking)}"


def test_the_cycle_finder_finds_a_cycle_and_names_its_modules() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
