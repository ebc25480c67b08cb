"""The import structure: no import cycle among nprates' modules, no private module
imported across the packages nprates, nprates.estimators, nprates.analysis and
nprates.reports.

The graph is read from the source (``ast``), not by importing: every ``import`` and
``from ... import`` counts, at module level or inside a function (a lazy import is still a
dependency), except those under ``if TYPE_CHECKING:`` (annotations only, never run).
``from package import name`` is an edge to ``package.name`` when that is a module, else
to ``package``. A package's ``__init__`` runs before any of its modules, so the implicit
edge from a module to its parent packages is not counted.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

PACKAGES = ("nprates.estimators", "nprates.analysis", "nprates.reports", "nprates")


def _package_dir(name: str) -> Path:
    return Path(importlib.util.find_spec(name).submodule_search_locations[0])


def _modules() -> dict[str, Path]:
    """Module name -> source file, for every module of the four packages."""
    out = {}
    for package in PACKAGES:
        root = _package_dir(package)
        for path in sorted(root.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join([package, *parts])
            out.setdefault(name, path)  # nprates.estimators etc. are not under nprates/
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _import_nodes(tree: ast.AST, annotations: bool = False):
    """Import statements of a module, skipping ``if TYPE_CHECKING:`` bodies unless
    ``annotations``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child) and not annotations:
                stack.extend(child.orelse)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            stack.append(child)


def _imports(name: str, path: Path, modules,
             annotations: bool = False) -> tuple[set[str], set[str]]:
    """(modules of ``modules`` that module ``name`` imports, ``"module._name"`` for each
    underscore name it imports from one of them; ``annotations``: with the imports under
    ``if TYPE_CHECKING:``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found, private_names = set(), set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8")), annotations):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
            private_names.update(f"{base}.{alias.name}" for alias in node.names
                                 if alias.name.startswith("_") and base in modules)
        found.update(t for t in targets if t in modules)
    return found - {name}, private_names


def import_graph(annotations: bool = False) -> dict[str, set[str]]:
    """Module name -> the modules of the four packages it imports (``annotations``: also
    those it imports for type annotations only)."""
    modules = _modules()
    return {name: _imports(name, path, modules, annotations)[0]
            for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _home(module: str) -> str:
    """The package of the four that ``module`` belongs to."""
    return next(p for p in PACKAGES if module == p or module.startswith(p + "."))


def private_imports() -> list[str]:
    """``importer -> module`` where a module of one package imports a private
    (underscore) module, or an underscore name of a module, of another package."""
    modules = _modules()
    out = []
    for importer, path in sorted(modules.items()):
        imported, private_names = _imports(importer, path, modules)
        out.extend(f"{importer} -> {target}"
                   for target in sorted(imported | private_names)
                   if _home(importer) != _home(target)
                   and any(part.startswith("_") for part in target.split(".")))
    return out


def test_the_graph_sees_imports():
    """The reader finds edges of each kind (absolute, relative, lazy, from-package)."""
    graph = import_graph()
    assert "nprates.analysis.schema" in graph["nprates.cli.run"]  # inside a function
    assert "nprates.cli.report" in graph["nprates.cli.demo"]  # relative, lazy
    assert "nprates.studies.seeds" in graph["nprates.studies.cells"]  # from package import
    assert "nprates.studies.spec" in graph["nprates.studies"]  # a package's __init__


def test_private_imports_are_seen(tmp_path):
    source = tmp_path / "fit.py"
    source.write_text("from typing import TYPE_CHECKING\n"
                      "if TYPE_CHECKING:\n    from nprates.analysis import schema\n"
                      "def run():\n    from nprates.analysis._format import jsonable\n"
                      "    from nprates.analysis.rates import _frame\n")
    modules = {"nprates.analysis.rates", "nprates.analysis._format", "nprates.analysis.schema"}
    imported, private_names = _imports("nprates.cli.fit", source, modules)
    assert imported == {"nprates.analysis._format", "nprates.analysis.rates"}
    assert private_names == {"nprates.analysis.rates._frame"}


def test_find_cycles_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert find_cycles(import_graph()) == []


def test_no_import_cycles_even_through_annotations():
    """Issue 30: ``spec`` imported ``check`` (lazily, and for an annotation) while
    ``check``, ``build`` and ``capability`` import ``spec`` for theirs. A ``Study`` is a
    plain spec; ``check_study(study)`` checks it: the dependency goes one way."""
    graph = import_graph(annotations=True)
    assert find_cycles(graph) == []
    checker = {"nprates.studies.check", "nprates.studies.build", "nprates.studies.capability",
               "nprates.studies.runner"}
    assert not graph["nprates.studies.spec"] & checker
    assert "nprates.studies.spec" in import_graph(annotations=True)["nprates.studies.check"]


def test_no_private_module_imported_across_packages():
    assert private_imports() == []
