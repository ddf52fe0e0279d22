"""The code stays small enough to read: limits on modules, functions and classes, and the layering.

The pipeline reads one way (plan -> measure -> store -> analyse -> report): the analysis side reads
stored JSON only and imports nothing from the measuring side, so any run can be re-analysed later.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LABS = Path(__file__).resolve().parents[1] / "labs"
MODULES = sorted(LABS.rglob("*.py"))
LIMITS = {"module": 400, "function": 60, "class": 300}


def lengths(path: Path):
    tree = ast.parse(path.read_text())
    yield "module", path.stem, len(path.read_text().splitlines())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield "function", node.name, node.end_lineno - node.lineno + 1
        elif isinstance(node, ast.ClassDef):
            yield "class", node.name, node.end_lineno - node.lineno + 1


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(LABS)))
def test_no_module_function_or_class_is_too_long(path):
    too_long = [
        f"{kind} {name}: {count} lines" for kind, name, count in lengths(path) if count > LIMITS[kind]
    ]
    assert not too_long, f"over {LIMITS}: {too_long}"


# The packages from the bottom up: a module imports only from its own package or one below it. ``core``
# is the vocabulary (errors, limits, runtime facts, plugins); ``execute`` runs a model on a workload with
# a pattern; ``plan`` and ``store`` decide and keep; ``analyse`` is statistics over stored runs, which the
# measuring side's stopping rule also uses; ``report`` formats what analyse computes; ``cli`` parses.
ORDER = (
    "core",
    "workloads",
    "models",
    "execute",
    "store",
    "plan",
    "analyse",
    "measure",
    "compat",
    "report",
    "cli",
)
TOP = {"labs": len(ORDER), "labs.__main__": len(ORDER)}  # the public facade and the entry point


def module_name(path: Path) -> str:
    parts = path.relative_to(LABS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULE_NAMES = {module_name(path): path for path in MODULES}


def imports_of(path: Path) -> set[str]:
    """The lab's modules that *path* imports, at the top or inside a function, relative imports resolved."""
    here, found = module_name(path), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            package = here if path.name == "__init__.py" else here.rpartition(".")[0]
            for _ in range(max(node.level - 1, 0)):
                package = package.rpartition(".")[0]
            base = (
                f"{package}.{node.module}"
                if node.level and node.module
                else package
                if node.level
                else node.module
            )
            for alias in node.names:  # ``from labs.core import lab`` imports a module, not a name
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULE_NAMES else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in MODULE_NAMES and name != here}


def rank(module: str) -> int:
    return TOP[module] if module in TOP else ORDER.index(module.split(".")[1])


GRAPH = {name: imports_of(path) for name, path in MODULE_NAMES.items()}


def test_every_package_is_in_the_order():
    assert {name.split(".")[1] for name in MODULE_NAMES if name not in TOP} == set(ORDER)


def test_every_import_points_down_the_order():
    upward = sorted(
        f"{name} -> {dep}" for name, deps in GRAPH.items() for dep in deps if rank(dep) > rank(name)
    )
    assert not upward, f"imports above their own layer (order: {' < '.join(ORDER)})"


def test_no_module_imports_itself_back_through_others():
    """No cycle between modules (Tarjan's strongly connected components of the import graph)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for dep in GRAPH[name]:
            if dep not in index:
                visit(dep)
                low[name] = min(low[name], low[dep])
            elif dep in stack:
                low[name] = min(low[name], index[dep])
        if low[name] == index[name]:
            component = stack[stack.index(name) :]
            del stack[stack.index(name) :]
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in GRAPH:
        if name not in index:
            visit(name)
    assert not cycles


def test_the_graph_test_sees_an_upward_import():
    """The check can fail: a core module importing the models is found."""
    bad = LABS / "core" / "errors.py"
    assert "labs.models.base" not in imports_of(bad)
    before = dict(GRAPH)
    try:
        GRAPH["labs.core.errors"] = {*GRAPH["labs.core.errors"], "labs.models.base"}
        with pytest.raises(AssertionError, match=r"labs\.core\.errors -> labs\.models\.base"):
            test_every_import_points_down_the_order()
        GRAPH["labs.models.base"] = {*GRAPH["labs.models.base"], "labs.core.errors"}
        with pytest.raises(AssertionError):
            test_no_module_imports_itself_back_through_others()
    finally:
        GRAPH.clear()
        GRAPH.update(before)


@pytest.mark.parametrize("package", ["analyse", "report"])
def test_the_analysis_side_imports_nothing_from_the_measuring_side(package):
    """Any stored run can be re-analysed on another machine: analyse and report read JSON only."""
    leaks = {
        f"{name}: {dep}"
        for name, deps in GRAPH.items()
        if name.startswith(f"labs.{package}")
        for dep in deps
        if dep.startswith(("labs.measure", "labs.models", "labs.workloads", "labs.execute"))
    }
    assert not leaks


def test_what_the_noxfile_imports_stays_light_and_older_python_can_parse_it():
    """nox runs on whatever Python installed it (3.11 on CI's machine): the modules the noxfile
    imports must parse there and must not pull in the models (which use 3.12 syntax)."""
    import subprocess
    import sys

    probe = (
        "import labs.core.tag, labs.plan.discovery, sys; "
        "print(sorted(m for m in sys.modules if m.startswith('labs')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=LABS.parent, check=True
    )
    loaded = ast.literal_eval(done.stdout)  # the module names the probe printed
    for name in loaded:
        path = LABS.parent / (name.replace(".", "/") + ".py")
        if not path.exists():
            path = LABS.parent / name.replace(".", "/") / "__init__.py"
        ast.parse(path.read_text(), feature_version=(3, 10))  # SyntaxError: newer syntax than 3.10
    assert "labs.models" not in loaded and "labs.core.plugin" not in loaded
