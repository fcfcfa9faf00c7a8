"""The shape of the import graph (issue #19): no cycles in ``emokit/``, no upward imports.

The graph is read from the source with :mod:`ast`, nothing is imported. An edge is any ``import``
or ``from ... import`` of an emokit module, **at module level and inside functions alike**: a
function-level import delays the cost of an import, not the dependency, so it counts. Two kinds
of import are not dependencies and do not count:

* imports under ``if TYPE_CHECKING:`` (never run);
* imports inside a package ``__init__``'s module-level ``__getattr__`` (PEP 562 lazy re-exports,
  such as ``emokit.load``: the package names its public API without depending on it at import).

``from emokit.data import cache`` is an edge to the module ``emokit.data.cache``; ``from emokit.data
import open_dataset`` is an edge to the package ``emokit.data`` (its ``__init__``). Importing a
submodule also runs its parents' ``__init__``, but that is how packages work, not a dependency
of the importer: those implicit edges do not count.

Rules checked:

1. no cycle among emokit's modules;
2. no cycle among its parts: a subpackage (``emokit.training``, ``emokit.inference``, ...) counts
   as one part, a top-level module (``emokit.evaluation``) as another; so ``training`` may use
   ``evaluation`` or the other way round, not both;
3. core (everything but ``emokit.cli``, ``emokit.demo`` and ``emokit.__main__``) imports neither ``emokit.cli`` nor
   ``emokit.demo``: they sit on top and use core, never the reverse;
4. core imports no built-in plugin module (``emokit_plugins``): plugins use core, and core reaches
   them only through the registry.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "emokit"
#: The layers on top of core: they may import core, core may not import them.
TOP_LAYERS = ("emokit.cli", "emokit.demo")
#: What runs the top layers: ``python -m emokit`` starts the CLI.
ENTRY_MODULES = ("emokit.__main__",)


def module_names() -> dict[str, Path]:
    """Every module of emokit by dotted name (a package by its own name, for its ``__init__``)."""
    names = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


MODULES = module_names()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.Module, is_package: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that runs at some point, but type-checking blocks and lazy re-exports."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            pending.extend(node.orelse)
            continue
        if is_package and node in tree.body and isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        pending.extend(ast.iter_child_nodes(node))


def imports_of(name: str) -> set[str]:
    """The emokit modules that module ``name`` imports (see the module docstring for what counts)."""
    path = MODULES[name]
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in _import_nodes(tree, is_package):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:  # relative: from the importing module's package
                package = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(package[: len(package) - (node.level - 1)] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        for target in targets:
            # ``import emokit.data.cache`` names the module; a deeper name (an attribute) its module.
            while target and target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != name:
                found.add(target)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def part_of(name: str) -> str:
    """The part a module belongs to: its subpackage (``emokit.training``) or itself (``emokit.evaluation``)."""
    parts = name.split(".")
    if len(parts) >= 2 and (PACKAGE / parts[1]).is_dir():
        return ".".join(parts[:2])
    return name


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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


def _edges_within(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    members = set(component)
    return [f"{a} -> {b}" for a in component for b in sorted(graph[a] & members)]


def test_the_graph_is_read():
    """The parser sees the imports it must (a broken parser would pass every rule below)."""
    assert "emokit.training.trainer" in GRAPH
    assert "emokit.training.config" in GRAPH["emokit.training.trainer"]
    assert "emokit.errors" in GRAPH["emokit.data"]


def test_no_import_cycle_between_modules():
    found = cycles(GRAPH)
    assert not found, "import cycles: " + "; ".join(", ".join(_edges_within(c, GRAPH)) for c in found)


def test_no_import_cycle_between_parts():
    parts: dict[str, set[str]] = {}
    for name, targets in GRAPH.items():
        parts.setdefault(part_of(name), set()).update(part_of(t) for t in targets if part_of(t) != part_of(name))
    found = cycles(parts)
    detail = []
    for component in found:
        members = set(component)
        detail.append(", ".join(f"{a} -> {b}" for a in sorted(GRAPH) for b in sorted(GRAPH[a])
                                if part_of(a) in members and part_of(b) in members and part_of(a) != part_of(b)))
    assert not found, "cycles between parts of emokit: " + " | ".join(detail)


@pytest.mark.parametrize("layer", TOP_LAYERS)
def test_core_does_not_import_the_cli_or_the_demo(layer):
    upward = [f"{name} -> {target}" for name, targets in sorted(GRAPH.items())
              if not name.startswith(TOP_LAYERS + ENTRY_MODULES) for target in sorted(targets) if target.startswith(layer)]
    assert not upward, f"core imports {layer}: " + ", ".join(upward)


def test_core_does_not_import_plugin_modules():
    found = []
    for name, path in sorted(MODULES.items()):
        tree = ast.parse(path.read_text())
        for node in _import_nodes(tree, path.name == "__init__.py"):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{name} -> {m}" for m in modules if m == "emokit_plugins" or m.startswith("emokit_plugins.")]
    assert not found, "core imports plugin modules: " + ", ".join(found)
