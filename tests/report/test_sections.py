"""Every report section rendered from real (trimmed) stored runs and compared with its golden file.

The fixture runs under tests/data/results/ were cut from results/2cpu-3354490b/ by
tests/data/cut_fixtures.py. After an intended change to a section, regenerate the golden files with
``LABS_REGOLD=1 pytest tests/report`` and read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labs.analyse import runs as analysis
from labs.core.tag import RuntimeTag
from labs.report.section import Section
from labs.report.sections import SECTIONS
from labs.report.view import MachineView, build_view

DATA = Path(__file__).resolve().parents[1] / "data"
FIXTURES = DATA / "results"
GOLDEN = DATA / "golden"
MACHINE = "2cpu-3354490b"


@pytest.fixture(scope="module")
def view() -> MachineView:
    runs, problems = analysis.load(FIXTURES)
    return build_view(MACHINE, runs, problems, normalize=True)


@pytest.fixture(scope="module")
def rendered(view: MachineView) -> dict[str, Section]:
    return {compute.__name__: compute(view) for compute in SECTIONS}


def golden_text(section: Section) -> str:
    """What a golden file holds: the section's Markdown, then its findings and what it left out."""
    findings = [f"- {line}" for line in section.findings] or ["- none"]
    left_out = [f"- {line}" for line in section.left_out] or ["- none"]
    return "\n".join([section.markdown(), "<!-- findings -->", *findings, "<!-- left out -->", *left_out, ""])


@pytest.mark.parametrize("name", [compute.__name__ for compute in SECTIONS])
def test_section_matches_its_golden_file(rendered, name):
    text = golden_text(rendered[name])
    path = GOLDEN / f"{name}.md"
    if os.environ.get("LABS_REGOLD") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run LABS_REGOLD=1 pytest tests/report"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from {path} (LABS_REGOLD=1 regenerates)"


def test_every_section_has_real_data(rendered):
    for name, section in rendered.items():
        assert len(section.lines) > 2, name
        assert not any(line.startswith("No ") and "in these results" in line for line in section.lines), name


def test_the_view_holds_one_mode(view):
    assert view.mode == "default"
    assert [str(t) for t in view.tags] == ["3.12", "3.13", "3.13t", "3.13t-gil"]
    assert "3.13/2026-11-26T14-06-16Z.json" not in view.runtimes[RuntimeTag.parse("3.13")].sources
    assert "3.13/2026-11-26T14-06-16Z.json: a quick run; this report uses default runs" in view.left_out
    matrix = [(k, b) for rt in view.runtimes.values() for k, b in rt.matrix("cpu")]
    tasks = {b.metadata.get("lab_tasks") for k, b in matrix if not k.workload.startswith("grain-")}
    assert tasks == {8}  # the quick run's 4-task jobs never merged in (the grain sweep runs 32 a job)


def test_left_out_names_every_runtime_and_suite_without_data(view):
    missing = {line for line in view.left_out if ": no data" in line}
    assert missing == {
        "3.12 / io: no data (`nox -s bench -- --kind io`)",
        "3.12 / capacity: no data (`nox -s bench -- --kind io`)",
        "3.13t-gil / io: no data (`nox -s bench -- --kind io`)",
        "3.13t-gil / capacity: no data (`nox -s bench -- --kind io`)",
    }


def test_best_model_never_picks_a_suspect_number(rendered):
    rows = [line for line in rendered["best_models"].lines if line.startswith("| 3.13 | fib |")]
    (row,) = rows
    assert "⚠" not in row and "processes-spawn / n-workers / w2" not in row
    cells = [cell.strip() for cell in row.split("|")]
    assert int(cells[5]) >= 1  # suspect benches passed over
    assert cells[6].startswith(
        "– (needs 3 worker counts of one job size, has"
    )  # no recommendation from two points
    assert cells[7] == "–"  # nor an Amdahl fit


def test_findings_carry_numbers_and_sample_sizes(rendered):
    findings = [f for section in rendered.values() for f in section.findings]
    assert any("3.13t threads reach ≈1.68× [1.57, 1.80] n=3x3 / 3x3 at 2 workers" in f for f in findings)
    assert any(f.startswith("Single-threaded, 3.13t takes ") and "n=3x3" in f for f in findings)
    assert "On 3.13t, the unsafe counter lost 456972.3 updates per million" in " ".join(findings)
    for finding in findings:
        assert "n=" in finding or "counts of" in finding, finding


def test_zero_copy_channels_are_latency_only(rendered):
    rows = [line for line in rendered["transfer"].lines if line.startswith("| ")]
    zero_copy = [r for r in rows if r.startswith(("| thread-queue", "| interp-memoryview"))]
    copying = [r for r in rows if r.startswith(("| mp-queue", "| shared-memory"))]
    assert zero_copy and copying
    assert not any("GB/s" in row for row in zero_copy)
    assert all("GB/s" in row for row in copying)


# Facts each section must state, in its Markdown or its findings: numbers computed from the fixture runs.
FACTS = {
    "setup": [
        "| 3.13t-gil | 3.13.5 | free-threaded | on | 1 |",
        "| 3.13 | `3.13/2026-11-26T15-04-13Z.json` | unknown |",
    ],
    "scaling": [
        # fib on 3.13: processes-spawn "2.33x" with 2 usable CPUs (a slow serial baseline, not real scaling)
        # (≈: each interval reaches beyond ±5%)
        "| 3.13 | processes-spawn | 8 | ≈1.22× [0.90, 1.66] n=3x3 / 3x3 | ≈2.33× [1.73, 3.14] n=3x3 / 3x3 ⚠",
        "| 3.13t | threads | 8 | 1.01× [0.98, 1.04] n=3x3 / 3x3 | ≈1.68× [1.57, 1.80] n=3x3 / 3x3 | 84% |",
    ],
    "single_thread_overhead": ["Geometric mean: ≈2.06× [1.88, 2.25] n=3x3."],  # a geometric mean's interval
    "io_download": [
        "8,629 requests/s (n=3x3); the best model above reaches 3,534 requests/s (asyncio at 256)",
    ],
    "mixed": ["On 3.13, from mixed-cpu4 on, processes-forkserver overtakes asyncio: 264 against 246"],
    "reliability": [
        "| 3.13 | `memory/threads/w2/rss` | 1x3 | 92.5% | CV 92%; 1 process(es) |",
        "| 3.13 | 103 of 150 | 81 | 12 | 88 |",  # listed, then per reason: CV, few processes, disagreeing
    ],
    "history": [
        "| workload | 3.12 serial | 3.13 / 3.12 | 3.13t / 3.12 | 3.13t-gil / 3.12 |",
        "| 3.13 | 2026-11-26T14-06-16Z | quick | 3.13.5 |",  # every run listed, labelled, never merged
    ],
    "races": ["On 3.13t, the unsafe counter lost 456972.3 updates per million"],
    "ladder": ["fsync ran on a `ext4` filesystem."],
    "memory": ["| 3.13t | interpreters-pool / w2 | 14.12 MiB (no interval) n=1x3 |"],  # one process
}


@pytest.mark.parametrize(("name", "facts"), FACTS.items(), ids=list(FACTS))
def test_section_states_its_facts(rendered, name, facts):
    text = golden_text(rendered[name])
    for fact in facts:
        assert fact in text, fact
