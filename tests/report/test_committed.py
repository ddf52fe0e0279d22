"""The committed reports are exactly what `labs report` (and `nox -s report`) writes from the committed
runs, with no option: a reader can rebuild every number, and a change to the analysis shows in the diff."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from labs.report import build

RESULTS = Path(__file__).resolve().parents[2] / "results"
MACHINES = sorted(folder for folder in RESULTS.iterdir() if (folder / "REPORT.md").is_file())
# plotly.js is the bundle of whichever plotly is installed: the page around it must match, not the bundle
PLOTLY = re.compile(r"<script>/\*\*\s*\* plotly\.js.*?</script>", re.S)


def page(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    found = PLOTLY.sub("<script>plotly.js</script>", text, count=1)
    assert found != text, "no plotly.js bundle found in the page"
    return found


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    pytest.importorskip("matplotlib", reason="plots need matplotlib (the plot dependency group)")
    pytest.importorskip("plotly", reason="the page's plots need plotly (the plot dependency group)")
    root = tmp_path_factory.mktemp("results")
    for machine in MACHINES:
        shutil.copytree(
            machine, root / machine.name, ignore=shutil.ignore_patterns("REPORT.*", "*.png", "*.svg")
        )
    written, problems = build.write_reports(root)
    assert len(written) == 3 * len(MACHINES), problems  # REPORT.md, REPORT.html, noise.json
    return root


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_the_committed_report_is_what_labs_report_writes(rebuilt, machine):
    again = rebuilt / machine.name
    assert (again / "REPORT.md").read_text(encoding="utf-8") == (machine / "REPORT.md").read_text(
        encoding="utf-8"
    ), f"results/{machine.name}/REPORT.md is stale: run `nox -s report` and commit what it writes"
    assert page(again / "REPORT.html") == page(machine / "REPORT.html"), (
        f"results/{machine.name}/REPORT.html is stale: run `nox -s report` and commit what it writes"
    )


def table_after(lines: list[str], start: int) -> list[list[str]]:
    """The rows of the Markdown table that begins at *start* (header first, the separator left out)."""
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        if not set(line) <= set("|-"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_readme_quotes_the_committed_answer():
    """The README's three lines of this machine's answer are the committed report's cells, word for word."""
    readme = (RESULTS.parent / "README.md").read_text(encoding="utf-8")
    quoted = readme.split("<!-- answer:", 1)[1].split("<!-- /answer -->", 1)[0].splitlines()
    header, *rows = table_after(quoted, 1)
    report = (RESULTS / "2cpu-3354490b" / "REPORT.md").read_text(encoding="utf-8").splitlines()
    columns, *answer = table_after(report, report.index("**CPU-bound**") + 2)
    cells = {row[0]: dict(zip(columns, row, strict=True)) for row in answer}
    assert len(rows) == 3 and header[0] == "workload"
    for row in rows:
        for runtime, cell in zip(header[1:], row[1:], strict=True):
            assert cells[row[0]][runtime] == cell, (row[0], runtime)
