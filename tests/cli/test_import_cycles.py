"""No import cycles among pybpfc's and its runtime's modules.

The graph is read from the source, not from a running interpreter: every
``import`` and ``from ... import`` counts, at module level or inside a
function (a deferred import still closes a cycle, only later).  Imports
under ``if TYPE_CHECKING:`` never run and do not count.  Importing
``a.b`` also initialises the package ``a`` first; that is not an edge, as a
package is always set up before its submodules, but ``from a import name``
of something ``a/__init__.py`` defines is an edge to ``a``.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator

from tests.support import REPO_ROOT

# Where each package's modules live in the source tree.
PACKAGES = {"pybpfc": REPO_ROOT / "pybpfc", "pybpfc.runtime": REPO_ROOT / "runtime"}

Graph = dict[str, dict[str, int]]      # module -> imported module -> line


def modules() -> dict[str, tuple[Path, bool]]:
    """Every module: its name -> (file, whether it is a package)."""
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found[".".join([package, *parts])] = (path, is_package)
    return found


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            for other in node.orelse:
                yield from _import_nodes(other)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _import_nodes(node)


def imports_of(name: str, source: str, is_package: bool, known: set[str]) -> dict[str, int]:
    """The modules in ``known`` that module ``name`` imports -> first line."""
    package = name if is_package else name.rpartition(".")[0]
    found: dict[str, int] = {}
    for node in _import_nodes(ast.parse(source)):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                targets.append(sub if sub in known else module)
        for target in targets:
            if target in known:
                found.setdefault(target, node.lineno)
    return found


def import_graph(sources: dict[str, tuple[str, bool]]) -> Graph:
    known = set(sources)
    return {name: imports_of(name, text, is_package, known)
            for name, (text, is_package) in sources.items()}


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module, or one
    module that imports itself (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
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
                    if len(component) > 1 or node in graph[node]:
                        found.append(sorted(component))
    return found


def describe(component: list[str], graph: Graph, files: dict[str, tuple[Path, bool]]) -> str:
    members = set(component)
    lines = [" <-> ".join(component)]
    for name in component:
        path = files[name][0].relative_to(REPO_ROOT) if name in files else name
        for target, line in sorted(graph[name].items()):
            if target in members:
                lines.append(f"  {path}:{line}: {name} imports {target}")
    return "\n".join(lines)


def test_no_module_of_pybpfc_or_its_runtime_is_in_an_import_cycle() -> None:
    files = modules()
    assert {"pybpfc.cli", "pybpfc.cli_runtime", "pybpfc.runtime.command"} <= set(files)
    graph = import_graph({name: (path.read_text(), is_package)
                          for name, (path, is_package) in files.items()})
    assert "pybpfc.cli_runtime" in graph["pybpfc.cli"]         # the graph sees inside functions
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(describe(c, graph, files) for c in found)


def test_the_cycle_finder_finds_each_kind_of_cycle() -> None:
    sources = {
        "p": ("from p.a import x\nfrom . import g\n", True),        # p -> a, p -> g
        "p.a": ("from . import b\n", False),                        # a -> b (relative)
        "p.b": ("def f():\n    import p.a\n", False),              # b -> a, in a function
        "p.c": ("from p import d\n", False),                       # c -> d (a submodule)
        "p.d": ("from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from p import c\n", False),   # never runs
        "p.e": ("from p import e\n", False),                       # itself
        "p.f": ("from p import VALUE\n", False),                   # f -> p's __init__
        "p.g": ("from p import VALUE\n", False),                   # g -> p, and p -> g
    }
    graph = import_graph(sources)
    assert graph["p"] == {"p.a": 1, "p.g": 2}
    assert graph["p.b"] == {"p.a": 2}
    assert graph["p.c"] == {"p.d": 1} and graph["p.d"] == {} and graph["p.f"] == {"p": 1}
    assert sorted(cycles(graph)) == [["p", "p.g"], ["p.a", "p.b"], ["p.e"]]
