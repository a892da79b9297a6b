"""No import circles among backends modules, read statically from their source.

Every `import` counts, wherever it stands: at module level, under `if TYPE_CHECKING:` and inside
a function. A circle hidden behind a function-level import is still a circle (two modules that
each need the other), so moving an import into a function does not pass this test; moving the
shared type or function to where it belongs does.
"""

from __future__ import annotations

import ast
from pathlib import Path

BACKENDS = Path(__file__).resolve().parents[2] / "backends"


def module_name(path: Path, root: Path = BACKENDS) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set[str], root: Path = BACKENDS) -> set[str]:
    """The backends modules `path` imports (a `from package import module` counts the module)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module in modules and module != name}


def import_graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in BACKENDS.rglob("*.py")}
    return {name: imported_modules(path, set(files)) for name, path in files.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per group of modules that import each
    other; empty when the graph has none."""
    cycles: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> None:
        for target in sorted(graph[node]):
            if target in trail:
                cycle = trail[trail.index(target) :] + [target]
                if not any(set(cycle) <= set(known) for known in cycles):
                    cycles.append(cycle)
            elif target not in done:
                visit(target, [*trail, target])
        done.add(node)

    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    return cycles


def test_backends_modules_import_no_circles() -> None:
    cycles = find_cycles(import_graph())
    assert [" -> ".join(cycle) for cycle in cycles] == []


def test_the_checker_sees_circles_through_type_checking_and_function_imports(
    tmp_path: Path,
) -> None:
    """The checker itself: the three kinds of import that made circles here are all seen."""
    graph = {
        "backends.base": {"backends.chat.images"},  # an import inside a method
        "backends.chat.images": {"backends.base"},
        "backends.hub.models": {"backends.models.gguf_quants"},  # under TYPE_CHECKING
        "backends.models.gguf_quants": {"backends.hub.models"},
        "backends.store.records": set(),
    }
    assert find_cycles(graph) == [
        ["backends.base", "backends.chat.images", "backends.base"],
        ["backends.hub.models", "backends.models.gguf_quants", "backends.hub.models"],
    ]
    source = tmp_path / "backends" / "chat" / "engine.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from backends.base import ChatMessage\n"
        "def read():\n    from ..store import records\n    from . import images\n"
    )
    modules = {"backends.base", "backends.store.records", "backends.chat.images"}
    assert imported_modules(source, modules, tmp_path / "backends") == modules
