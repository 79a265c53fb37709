"""skpref's import graph, read statically: no cycles, no other package's privates.

Every ``import`` and ``from ... import`` of ``skpref`` in ``skpref/**/*.py`` is an
edge, those inside functions included (a lazy import still ties two modules
together). Importing ``skpref.p.m`` from outside package ``p`` first runs
``skpref/p/__init__.py``, so that is an edge too; from inside ``p`` it is not (the
package is already being imported), which lets a package re-export its submodules
while they import each other.

A module's *home* is the first component after ``skpref``: a subpackage
(``metrics``) or the root (the root's ``__init__`` and its private ``skpref/_*``
modules). A module may import another home's public modules and public names only;
``skpref/_*`` modules themselves are the root's and may be imported by anything.
"""

import ast
from pathlib import Path

import pytest

import skpref

ROOT = Path(skpref.__file__).parent


def _module_name(path):
    parts = ["skpref", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}
PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py"}


def _home(module):
    """``metrics`` for ``skpref.metrics._accuracy``; ``""`` for the root's modules."""
    parts = module.split(".")
    return "" if len(parts) == 1 or parts[1].startswith("_") else parts[1]


def _package_of(module):
    return module if module in PACKAGES else module.rpartition(".")[0]


def _imports(module):
    """Yield ``(line, target module, imported name or None)`` of every skpref import."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "skpref":
                    yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(module).split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, *filter(None, [node.module])])
            else:
                source = node.module or ""
            if source.split(".")[0] != "skpref":
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in MODULES:
                    yield node.lineno, submodule, None
                else:
                    yield node.lineno, source, alias.name


def _edges(module):
    """Modules that importing ``module`` runs, with the line that imports them."""
    own = set()
    parent = _package_of(module)
    while parent:
        own.add(parent)
        parent = parent.rpartition(".")[0]
    for line, target, _ in _imports(module):
        parts = target.split(".")
        for depth in range(2, len(parts) + 1):
            reached = ".".join(parts[:depth])
            if reached in MODULES and reached != module and reached not in own:
                yield line, reached


GRAPH = {module: sorted({t for _, t in _edges(module)}) for module in MODULES}


def _cycles(graph):
    """Each strongly connected component of more than one module, as one cycle."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_one_cycle(graph, set(component)) for component in components]


def _one_cycle(graph, component):
    """A shortest path from the component's first module back to itself."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in graph[node]:
                if target == start:
                    return [*paths[node], start]
                if target in component and target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def _is_private(target, name):
    """Whether ``target`` (or ``name`` from it) is private to its home."""
    inner = target.split(".")[2:]
    return any(part.startswith("_") for part in inner) or (
        name is not None and name.startswith("_") and not name.startswith("__")
    )


def _private_imports():
    """``module:line imports target[.name]`` for each private of another home."""
    found = []
    for module in sorted(MODULES):
        for line, target, name in _imports(module):
            if _home(target) == _home(module) or not _is_private(target, name):
                continue
            what = target if name is None else f"{target}.{name}"
            found.append(f"{module}:{line} imports {what}")
    return found


def _report(title, violations):
    """Print the violations grouped by home, so what remains is plain to read."""
    lines = [f"{title}: {len(violations)}"]
    lines += [f"  {violation}" for violation in violations]
    print("\n".join(lines))
    return "\n".join(lines)


def test_the_graph_sees_imports_inside_functions_and_relative_imports():
    edges = {module: set(targets) for module, targets in GRAPH.items()}
    # skpref/_reward_function.py imports the embeddings only inside functions
    assert "skpref.embeddings" in edges["skpref._reward_function"]
    # a package re-exports its modules; they do not import their own __init__
    assert "skpref.metrics._accuracy" in edges["skpref.metrics"]
    assert "skpref.metrics" not in edges["skpref.metrics._accuracy"]


def test_a_cycle_is_found_and_shown():
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
    assert _cycles({"a": ["b"], "b": []}) == []


@pytest.mark.parametrize(
    ("module", "target", "name", "private"),
    [
        ("skpref.metrics._accuracy", "skpref.utils._validation", None, True),
        ("skpref.metrics._accuracy", "skpref.utils", "_fit_context", True),
        ("skpref.metrics._accuracy", "skpref.utils", "check_texts", False),
        ("skpref.metrics._accuracy", "skpref.metrics._validation", None, False),
        ("skpref.models._base", "skpref._version", None, False),
        ("skpref.models._base", "skpref._persistence", None, False),
        ("skpref._persistence._decode", "skpref._version", None, False),
        ("skpref._persistence._decode", "skpref.utils._device", None, True),
    ],
)
def test_private_means_another_homes_underscore_module_or_name(
    module, target, name, private
):
    assert (_home(module) != _home(target) and _is_private(target, name)) is private


def test_no_import_cycles():
    cycles = [" -> ".join(cycle) for cycle in _cycles(GRAPH)]
    assert not cycles, _report("import cycles", cycles)


def test_no_imports_of_another_packages_private_modules():
    violations = _private_imports()
    assert not violations, _report(
        "imports of another package's private module or name (promote it to a "
        "public name of its package, or re-export it from skpref.utils)",
        violations,
    )
