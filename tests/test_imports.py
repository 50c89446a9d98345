"""The line between the core and the adapters, and no import cycles, read from the source.

Every module of ``src/itvrules`` and ``adapters/itvrules_adapters`` is parsed
with ``ast``; every import that runs (at module level or inside a function,
but not under ``if TYPE_CHECKING:``), and every ``importlib.import_module`` or
``__import__`` of a module named by a literal, is an edge of the import graph. The core
must never import the adapters, the adapters only the public API, and the
graph must have no cycle: a cycle makes the import order decide what works.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from paths import ROOT

CORE = "itvrules"
ADAPTERS = "itvrules_adapters"
PACKAGES = {CORE: ROOT / "src" / CORE, ADAPTERS: ROOT / "adapters" / ADAPTERS}


@attrs.frozen
class Import:
    """One import that runs: the module it is in, its line and the module it loads."""

    module: str
    line: int
    target: str
    written: str  # as the source spells it, for messages


def modules() -> dict[str, Path]:
    """Every module of both packages by dotted name (a package by its ``__init__``)."""
    found: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node that may run: the bodies of ``if TYPE_CHECKING:`` are left out (their else is not)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imports(name: str, path: Path, known: set[str]) -> list[Import]:
    """The runtime imports of module ``name`` that load a module of either package.

    ``import a.b.c`` and ``from a.b.c import x`` load ``a.b.c`` and the packages
    above it; a package above the importing module is already being loaded and
    is no edge, unless a name is taken from it (``from . import x`` where ``x``
    is not a submodule reads the package's ``__init__``).
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def add(node: ast.stmt | ast.expr, target: str, written: str, *, reads: bool = False) -> None:
        own = {*_ancestors(name), name}
        if target == name:
            return  # a package's ``from . import x`` is no edge to itself
        for parent in _ancestors(target):
            if parent in known and parent not in own:
                found.append(Import(name, node.lineno, parent, written))
        if target in known and (reads or target not in own):
            found.append(Import(name, node.lineno, target, written))
        elif target.split(".")[0] in PACKAGES and target not in known:
            found.append(Import(name, node.lineno, target, written))  # a module that is not there

    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call):
            loaded = _dynamic(node)
            if loaded is not None:
                add(node, loaded, f"import_module({loaded!r})")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                add(node, alias.name, f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            dots = "." * node.level
            written = f"from {dots}{node.module or ''} import {', '.join(a.name for a in node.names)}"
            if origin.split(".")[0] not in PACKAGES:
                continue
            submodules = [a.name for a in node.names if f"{origin}.{a.name}" in known]
            attributes = [a.name for a in node.names if a.name not in submodules]
            if attributes or not submodules:
                add(node, origin, written, reads=True)
            for sub in submodules:
                add(node, f"{origin}.{sub}", written)  # loads ``origin`` first, as an edge of its own
    unique = {(edge.line, edge.target): edge for edge in found}
    return [unique[key] for key in sorted(unique)]


def _dynamic(call: ast.Call) -> str | None:
    """The module ``importlib.import_module("x")`` or ``__import__("x")`` loads, when named by a literal."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in ("import_module", "__import__") or not call.args:
        return None
    first = call.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def graph() -> list[Import]:
    """Every runtime import between the modules of both packages."""
    found = modules()
    known = set(found)
    return [edge for name, path in found.items() for edge in imports(name, path, known)]


def cycles(edges: list[Import]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing itself)."""
    successors: dict[str, set[str]] = {}
    for edge in edges:
        successors.setdefault(edge.module, set()).add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(start: str) -> None:  # Tarjan's algorithm, without recursion
        work = [(start, iter(sorted(successors.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(successors.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in successors.get(node, ()):
                    components.append(sorted(component))

    for node in sorted(successors):
        if node not in index:
            visit(node)
    return components


def one_cycle(component: list[str], edges: list[Import]) -> list[Import]:
    """A shortest closed path through the first module of ``component``, as import lines."""
    members = set(component)
    inside = [e for e in edges if e.module in members and e.target in members]
    start = component[0]
    came: dict[str, Import] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for edge in inside:
                if edge.module != node:
                    continue
                if edge.target == start:
                    path = [edge]
                    while path[0].module != start:
                        path.insert(0, came[path[0].module])
                    return path
                if edge.target not in came:
                    came[edge.target] = edge
                    following.append(edge.target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def in_cycles() -> int:
    """How many modules take part in an import cycle."""
    return sum(len(c) for c in cycles(graph()))


# -- the graph itself --------------------------------------------------------------------------------


def test_the_graph_sees_both_packages_and_their_edges() -> None:
    found = modules()
    assert {"itvrules", "itvrules.hookspecs", "itvrules_adapters.csv_io"} <= set(found)
    edges = {(e.module, e.target) for e in graph()}
    assert ("itvrules_adapters.csv_io", "itvrules") in edges
    assert ("itvrules", "itvrules.hookspecs") in edges


def test_relative_imports_and_type_checking_blocks_are_read_right(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import b\n"
        "from .c import thing\n"
        "from .. import name\n"
        "if TYPE_CHECKING:\n"
        "    from .d import Hidden\n"
        "else:\n"
        "    import itvrules.e\n"
        "def f():\n"
        "    from itvrules_adapters import csv_io\n", encoding="utf-8")
    known = {"itvrules", "itvrules.p", "itvrules.p.b", "itvrules.p.c", "itvrules.p.d", "itvrules.e",
             "itvrules_adapters", "itvrules_adapters.csv_io"}
    found = [(e.line, e.target) for e in imports("itvrules.p.m", source, known)]
    assert found == [(2, "itvrules.p.b"), (3, "itvrules.p.c"), (4, "itvrules"), (8, "itvrules.e"),
                     (10, "itvrules_adapters"), (10, "itvrules_adapters.csv_io")]


def test_a_cycle_is_found_and_spelled_out() -> None:
    edges = [Import("a", 1, "b", "import b"), Import("b", 2, "c", "import c"),
             Import("c", 3, "a", "import a"), Import("c", 4, "d", "import d"),
             Import("d", 5, "d", "import d")]
    assert sorted(cycles(edges)) == [["a", "b", "c"], ["d"]]
    assert [e.line for e in one_cycle(["a", "b", "c"], edges)] == [1, 2, 3]


# -- the rules ----------------------------------------------------------------------------------------


def crossings(edges: list[Import]) -> list[str]:
    """Imports of the adapters by the core, as ``module line N: import``."""
    return [f"{e.module} line {e.line}: {e.written}" for e in edges
            if e.module.split(".")[0] == CORE and e.target.split(".")[0] == ADAPTERS]


def _private(target: str) -> bool:
    return target.split(".")[0] == CORE and any(part.startswith("_") for part in target.split(".")[1:])


def private_imports(edges: list[Import]) -> list[str]:
    """Imports of a private module of the core by an adapter, as ``module line N: import``."""
    return [f"{e.module} line {e.line}: {e.written}" for e in edges
            if e.module.split(".")[0] == ADAPTERS and _private(e.target)]


def test_the_rules_see_what_they_forbid(tmp_path: Path) -> None:
    core, adapter = tmp_path / "core.py", tmp_path / "adapter.py"
    core.write_text("import importlib\n"
                    "def load():\n"
                    "    importlib.import_module('itvrules_adapters.csv_io')\n", encoding="utf-8")
    adapter.write_text("from itvrules import hookimpl\n"
                       "from itvrules.runs._rows import field_of\n"
                       "def f():\n"
                       "    import itvrules.model._money\n", encoding="utf-8")
    known = {"itvrules", "itvrules.runs._rows", "itvrules.model._money", "itvrules_adapters",
             "itvrules_adapters.csv_io", "itvrules.runs._pipeline", "itvrules_adapters.x"}
    edges = imports("itvrules.runs._pipeline", core, known) + imports("itvrules_adapters.x", adapter, known)
    # the package, then the module: both are loaded by the call
    assert crossings(edges) == \
        ["itvrules.runs._pipeline line 3: import_module('itvrules_adapters.csv_io')"] * 2
    assert private_imports(edges) == ["itvrules_adapters.x line 2: from itvrules.runs._rows import field_of",
                                      "itvrules_adapters.x line 4: import itvrules.model._money"]


def test_the_core_never_imports_the_adapters() -> None:
    crossing = crossings(graph())
    assert not crossing, "the core imports the adapters:\n" + "\n".join(crossing)


def test_the_adapters_use_only_the_public_api() -> None:
    private = private_imports(graph())
    assert not private, "adapters import private modules of itvrules:\n" + "\n".join(private)


def test_there_is_no_import_cycle() -> None:
    edges = graph()
    found = cycles(edges)
    report = []
    for component in found:
        path = " -> ".join(f"{e.module} (line {e.line}: {e.written})" for e in one_cycle(component, edges))
        report.append(f"{len(component)} modules: {', '.join(component)}\n  e.g. {path} -> {component[0]}")
    assert not found, f"{sum(map(len, found))} modules in import cycles:\n" + "\n".join(report)


@pytest.mark.parametrize("name", sorted(modules()))
def test_every_module_parses(name: str) -> None:
    assert imports(name, modules()[name], set(modules())) is not None
