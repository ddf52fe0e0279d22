"""results/<machine>/compat/<UTC>.json: the probe's results, written like runs (atomic, never
overwritten, scrubbed of host and home paths) and read back for the report as untrusted input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labs.core import limits
from labs.store import runs

KIND = "labs-compat"
FORMAT = 1
NAMES = ("package", "runtime")
CHECK_FIELDS = ("wheel", "import", "gil", "subinterpreter", "threads")


def save(root: Path, document: dict[str, Any]) -> Path:
    """Write *document* under root/<machine>/compat/; returns the new file's path."""
    folder = runs.check_writable(root / document["machine"] / runs.COMPAT_FOLDER)
    return runs.write_new_json(folder, document["started"], runs.scrub(document))


def check(data: Any) -> None:
    """ValueError unless *data* has the shape the report reads (cells of string-keyed checks)."""
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise ValueError(f"not a compatibility result (no 'kind': {KIND!r})")
    cells = data.get("cells")
    if not isinstance(cells, list) or not isinstance(data.get("started"), str):
        raise ValueError("'cells' must be a list and 'started' a string")
    for cell in cells:
        if not isinstance(cell, dict) or not all(
            isinstance(cell.get(k), str) for k in ("package", "runtime")
        ):
            raise ValueError("every cell needs a 'package' and a 'runtime' string")
        for name in CHECK_FIELDS:
            value = cell.get(name)
            if not isinstance(value, dict) or not isinstance(value.get("status"), str):
                raise ValueError(f"cell {cell['package']}/{cell['runtime']}: {name!r} has no status")
    wheels = data.get("index_wheels", {})  # absent from files written before it was asked
    if not isinstance(wheels, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("status"), str) for v in wheels.values()
    ):
        raise ValueError("'index_wheels' must map each package to a dict with a status")


def load(machine_folder: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Every valid compatibility file of one machine, oldest first, and one line per file refused."""
    documents, problems = [], []
    folder = machine_folder / runs.COMPAT_FOLDER
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.name.startswith("."):
            continue
        try:
            text = limits.read_bounded(path).decode("utf-8")
            data = json.loads(text, parse_constant=limits.refuse_constant)
            check(data)
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            problems.append(f"compat/{path.name}: {exc}")
            continue
        documents.append({**data, "source": f"compat/{path.name}"})
    return sorted(documents, key=lambda d: d["started"]), problems


def latest_cells(documents: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(package, runtime) -> the newest cell stored for it: a later probe replaces an earlier one."""
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for document in documents:
        for cell in document["cells"]:
            cells[(cell["package"], cell["runtime"])] = cell
    return cells
