"""The compatibility table's words: one short text per check, the same in the terminal and the report.

Green cells say only that the check passed (with the wheel's tags or the import time, the numbers a
reader wants); every other cell says why in one line.
"""

from __future__ import annotations

from typing import Any

from labs.core.tag import RuntimeTag

HEADERS = ("package", "runtime", "wheel", "import", "GIL", "subinterpreter", "threads", "probe s")
INDEX_HEADER = "free-threaded wheel on the index"  # a column of the probe's own table, after "wheel"
MARKS = {"ok": "✓", "fail": "✗", "built": "⚠", "n/a": "–", "skip": "·"}


def one_line(text: Any, limit: int = 110) -> str:
    line = " ".join(str(text).split()).replace("|", "/")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe(cell: dict[str, Any], check: str) -> str:
    """The text of one check of one cell: a mark, then what passed or why not."""
    found = cell.get(check) or {"status": "skip", "reason": "not probed"}
    status = str(found.get("status"))
    mark = MARKS.get(status, "?")
    if status != "ok":
        return f"{mark} {one_line(found.get('reason') or status)}"
    if check == "wheel":
        tags = str(found.get("tags") or found.get("file") or "wheel").split(".")
        return f"{mark} {one_line(tags[0], 60)}{f' (+{len(tags) - 1} tags)' if len(tags) > 1 else ''}"
    if check == "import" and isinstance(found.get("seconds"), int | float):
        return f"{mark} {found['seconds'] * 1000:.0f} ms"
    if check == "gil":
        return f"{mark} stays off"
    return mark


def describe_index(found: dict[str, Any] | None) -> str:
    """The text of the package's free-threaded wheel on the index (labs.compat.index.summarize)."""
    if not isinstance(found, dict):
        return "· not asked"
    status = str(found.get("status"))
    mark = MARKS.get(status, "?")
    if status != "ok":
        return f"{mark} {one_line(found.get('reason') or status, 80)}"
    older = found.get("older") or []
    return f"{mark} {' '.join(map(str, found.get('abis') or []))}" + (
        f" ({one_line(', '.join(map(str, older)), 60)})" if older else ""
    )


def headers(index_column: bool = False) -> tuple[str, ...]:
    """HEADERS, with the index's free-threaded wheel column after "wheel" where it was asked."""
    return (*HEADERS[:3], INDEX_HEADER, *HEADERS[3:]) if index_column else HEADERS


def _runtime_order(tag: str) -> tuple[int, Any]:
    return (0, RuntimeTag.parse(tag)) if RuntimeTag.is_valid(tag) else (1, tag)


def rows(
    cells: dict[tuple[str, str], dict[str, Any]],
    order: list[str] | None = None,
    index_wheels: dict[str, Any] | None = None,
) -> list[list[str]]:
    """One row per (package, runtime), packages in *order* (else by name), runtimes by version; with
    *index_wheels* (package -> what the index has), the column headers(True) names."""
    packages = list(dict.fromkeys([*(order or []), *sorted({p for p, _ in cells})]))
    found = []
    for package in packages:
        for runtime in sorted({r for p, r in cells if p == package}, key=_runtime_order):
            cell = cells[(package, runtime)]
            seconds = cell.get("seconds")
            timing = f"{seconds:.1f}" if isinstance(seconds, int | float) else "?"
            checks = [describe(cell, c) for c in ("wheel", "import", "gil", "subinterpreter", "threads")]
            if index_wheels is not None:
                checks.insert(1, describe_index(index_wheels.get(package)))
            found.append([package, runtime, *checks, timing])
    return found


def problems(cells: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """One sentence per package and runtime where a check failed: what a reader must know first."""
    lines = []
    for (package, runtime), cell in cells.items():
        for check in ("wheel", "import", "gil", "subinterpreter", "threads"):
            found = cell.get(check) or {}
            if found.get("status") == "fail":
                lines.append(f"{package} on {runtime}: {check}: {one_line(found.get('reason'), 160)}")
    return lines


def text_table(headers: list[str] | tuple[str, ...], body: list[list[str]]) -> list[str]:
    """A plain aligned table for the terminal."""
    widths = [max(len(str(r[i])) for r in [list(headers), *body]) for i in range(len(headers))]
    return [
        "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *body]
    ]


def markdown_table(headers: list[str] | tuple[str, ...], body: list[list[str]]) -> list[str]:
    """The same table in Markdown, as stored beside the JSON and printed in the report."""
    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)] + [
        "| " + " | ".join(row) + " |" for row in body
    ]
