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


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("package", ["analyse", "report"])
def test_the_analysis_side_imports_nothing_from_the_measuring_side(package):
    leaks = {
        f"{path.relative_to(LABS)}: {module}"
        for path in (LABS / package).rglob("*.py")
        for module in imports_of(path)
        if module.startswith(("labs.measure", "labs.models", "labs.workloads"))
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
