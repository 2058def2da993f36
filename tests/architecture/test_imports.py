"""The package's import graph: no cycle between modules, and helpers below the drawing floor.

Every ``import`` counts, at module level or inside a function, since a function-level import still makes
two modules need each other; only imports under ``if TYPE_CHECKING:`` are exempt, because they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import shortvid_analytics

PACKAGE = "shortvid_analytics"
ROOT = Path(shortvid_analytics.__file__).parent

# Layers that draw or talk to the user. Modules outside them compute and write data, and may not reach up
# into drawing (render/) or the command line (cli/); there are no exceptions. What both floors need lives
# below them: atomic writes in files.py, the stderr console in terminal.py.
UPPER_FLOORS = ("render", "cli", "report")
FORBIDDEN_FROM_BELOW = ("render", "cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for orelse in child.orelse:
                    visit_node(orelse)
                continue
            visit_node(child)

    def visit_node(node: ast.AST) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        visit(node)

    visit(tree)
    return found


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The package's modules that one import statement loads (a from-import of a submodule names it)."""
    if isinstance(node, ast.Import):
        bases = [alias.name for alias in node.names]
        return {_nearest_known(name, known) for name in bases if name.startswith(PACKAGE)} - {None}  # type: ignore[misc]
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    if not base.startswith(PACKAGE):
        return set()
    targets = set()
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        targets.add(submodule if submodule in known else _nearest_known(base, known))
    return targets - {None}  # type: ignore[arg-type]


def _nearest_known(name: str, known: set[str]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(path): path for path in ROOT.rglob("*.py")}
    known = set(files)
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in _runtime_imports(tree):
            edges |= _targets(module, is_package, node, known)
        graph[module] = edges - {module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first repeated at the end), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def _floor(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_import_cycle_between_modules():
    graph = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_modules_below_the_drawing_floor_never_import_render_or_cli():
    graph = import_graph()
    offences = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items() if _floor(module) not in UPPER_FLOORS
        for target in targets if _floor(target) in FORBIDDEN_FROM_BELOW
    )
    assert not offences, "\n".join(offences)


def test_the_graph_counts_function_level_imports_and_exempts_type_checking_ones():
    graph = import_graph()
    assert f"{PACKAGE}.spark" in graph[f"{PACKAGE}.engine"]  # imported inside connect()
    assert f"{PACKAGE}.engine" not in graph[f"{PACKAGE}.sql"]  # only for the Connection annotation
    assert f"{PACKAGE}.report.sections.ab" in graph[f"{PACKAGE}.report.sections"]  # from . import ab
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_old_package_paths_import_the_same_modules() -> None:
    """``abtest`` and ``regression`` were the packages of ``ab`` and ``regress``; code importing them still works."""
    import shortvid_analytics.ab.stats
    import shortvid_analytics.abtest.stats
    import shortvid_analytics.regress.models
    import shortvid_analytics.regression.models
    from shortvid_analytics.abtest import analyze
    from shortvid_analytics.regression import regress

    assert shortvid_analytics.abtest.stats is shortvid_analytics.ab.stats
    assert shortvid_analytics.regression.models is shortvid_analytics.regress.models
    assert analyze is shortvid_analytics.ab.analyze
    assert regress is shortvid_analytics.regress.regress
