"""The package's module-level import graph has no cycles (issue 19): layers import downward only."""

from __future__ import annotations

import ast
from pathlib import Path

import ccms_attendance

PACKAGE = Path(ccms_attendance.__file__).parent


def _module_name(path: Path) -> str:
    parts = ["ccms_attendance", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """Modules of the package imported when ``path`` is imported (not inside functions or TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        statements = [node] if not isinstance(node, ast.Try | ast.If) else list(ast.walk(node))
        for statement in statements:
            if isinstance(statement, ast.Import):
                found.update(a.name for a in statement.names)
            elif isinstance(statement, ast.ImportFrom) and statement.module and statement.level == 0:
                found.add(statement.module)
                found.update(f"{statement.module}.{a.name}" for a in statement.names)
    return {name for name in found if name in modules}


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _top_level_imports(path, set(paths)) - {name} for name, path in paths.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_package_import_graph_has_no_cycles():
    graph = _graph()
    assert len(graph) > 50  # the whole package was read
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
