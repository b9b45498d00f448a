"""The package's import graph has no cycles.

A loop between modules means none of them can be read, tested or replaced alone, and it
breaks at import time as soon as one of them needs a name from another at module level.
The graph is read from the source with ``ast`` (nothing is imported): every ``import`` and
``from ... import`` anywhere in a module, at module level or inside a function, relative or
absolute, with ``from pkg import name`` resolving to the submodule ``pkg.name`` when there is
one. Imports of modules outside the package are ignored.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "src" / "kodcode"

Graph = dict[str, set[str]]


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``package_dir`` (a package's
    ``__init__.py`` is the package itself)."""
    base = package_dir.parent
    out: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is one of our modules (``a.b.func`` -> ``a.b``)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that ``module`` imports, anywhere in its file (parent packages are
    left out: Python runs them for every import of a submodule, so they add no information)."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # `from pkg import name` depends on the submodule pkg.name when there is one, else on
            # pkg (importing a submodule runs its parents' __init__ anyway, for every import)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            found = _resolve(target, modules)
            if found is not None and found != module:
                out.add(found)
    return out


def import_graph(package_dir: Path) -> Graph:
    modules = module_names(package_dir)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle per loop (see ``loops``), as ``[a, b, ..., a]``, sorted so the report is stable."""
    return sorted(_cycle_through(graph, set(c)) for c in loops(graph))


def loops(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted (Tarjan's
    algorithm, iterative: no recursion limit on deep graphs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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
    return sorted(components)


def _cycle_through(graph: Graph, component: set[str]) -> list[str]:
    """A shortest cycle from the component's first module back to itself (breadth-first)."""
    start = min(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return path[::-1] + [start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def test_kodcode_has_no_import_cycles():
    graph = import_graph(PACKAGE_DIR)
    assert "kodcode.llm.client" in graph, "the package was not found"
    found = [(" -> ".join(_cycle_through(graph, set(c))), ", ".join(c)) for c in loops(graph)]
    assert not found, "import cycles in src/kodcode (move what both sides need to a module of its own):\n" + \
        "\n".join(f"{cycle}   (the loop: {members})" for cycle, members in found)


def test_the_workflow_does_not_import_test_support():
    graph = import_graph(PACKAGE_DIR)
    users = sorted(m for m, deps in graph.items()
                   if not m.startswith("kodcode.testing") and any(d.startswith("kodcode.testing") for d in deps))
    assert not users, f"{users} import kodcode.testing, which only tests and bench/ may use"


# ------------------------------------------------------------------ the checker itself


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "pkg"
    for name, text in files.items():
        path = pkg / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return pkg


def test_finds_a_loop_through_function_level_and_relative_imports(tmp_path):
    pkg = _package(tmp_path, {
        "__init__.py": "",
        "iface.py": "import json\n\ndef build():\n    from .sub import impl\n    return impl\n",
        "sub/__init__.py": "",
        "sub/impl.py": "from .. import iface\n",
        "other.py": "from pkg.sub.impl import thing\n",
    })
    graph = import_graph(pkg)
    assert graph["pkg.iface"] == {"pkg.sub.impl"}  # `from .sub import impl` is the submodule
    assert graph["pkg.sub.impl"] == {"pkg.iface"}  # so is `from .. import iface`
    assert graph["pkg.other"] == {"pkg.sub.impl"}  # `thing` is a name, not a module
    assert find_cycles(graph) == [["pkg.iface", "pkg.sub.impl", "pkg.iface"]]


def test_acyclic_package_and_the_shortest_cycle_is_reported(tmp_path):
    pkg = _package(tmp_path, {
        "__init__.py": "from .a import x\n",
        "a.py": "from . import b\n",
        "b.py": "import pkg.c\n",
        "c.py": "",
    })
    assert find_cycles(import_graph(pkg)) == []
    # a loop of three, plus a chord: the reported cycle is a shortest one through the first module
    graph = {"m.a": {"m.b"}, "m.b": {"m.c", "m.a"}, "m.c": {"m.a"}, "m.d": {"m.a"}}
    assert find_cycles(graph) == [["m.a", "m.b", "m.a"]]
    assert find_cycles({"m.a": {"m.b"}, "m.b": {"m.c"}, "m.c": {"m.a"}}) == [["m.a", "m.b", "m.c", "m.a"]]
