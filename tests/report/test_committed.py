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
    assert len(written) == 2 * len(MACHINES), problems
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
