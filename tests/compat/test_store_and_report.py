"""Compat results on disk and in the report: stored like runs, never taken for runs, rendered as a table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from labs.compat import store, table
from labs.report import build
from labs.report.sections.compat import compatibility
from labs.report.view import MachineView
from labs.store import runs

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "results"
MACHINE = "2cpu-3354490b"


def _cell(package: str, runtime: str, **checks: dict) -> dict:
    base = {
        "wheel": {"status": "ok", "tags": "cp313-cp313t-manylinux_2_17_x86_64"},
        "import": {"status": "ok", "seconds": 0.012},
        "gil": {"status": "ok"},
        "subinterpreter": {"status": "ok"},
        "threads": {"status": "ok"},
    }
    return {"package": package, "runtime": runtime, "seconds": 3.5, **base, **checks}


def _document(started: str, *cells: dict) -> dict:
    packages = list(dict.fromkeys(c["package"] for c in cells))
    return {
        "kind": store.KIND,
        "machine": MACHINE,
        "started": started,
        "packages": packages,
        "cells": list(cells),
    }


GIL_FAIL = {"status": "fail", "reason": "GIL re-enabled by fakegil", "culprits": ["fakegil"]}
SUB_FAIL = {
    "status": "fail",
    "reason": "fakesingle: does not support loading in subinterpreters",
    "culprits": ["fakesingle"],
}


def test_saving_never_overwrites_and_scrubs_the_home_folder(tmp_path):
    document = _document("2026-01-01T00-00-00Z", _cell("x", "3.13", spec=str(Path.home() / "x.whl")))
    first, second = store.save(tmp_path, document), store.save(tmp_path, document)
    assert first != second and first.parent == second.parent == tmp_path / MACHINE / "compat"
    assert str(Path.home()) not in first.read_text()


def test_run_loaders_skip_the_compat_folder(tmp_path):
    shutil.copytree(FIXTURES, tmp_path, dirs_exist_ok=True)
    before = runs.iter_run_files(tmp_path)
    store.save(tmp_path, _document("2026-01-01T00-00-00Z", _cell("x", "3.13")))
    assert runs.iter_run_files(tmp_path) == before
    assert not any("compat" in p.parts for p in before)


def test_a_malformed_compat_file_is_one_problem_line_not_a_crash(tmp_path):
    folder = tmp_path / "compat"
    folder.mkdir()
    (folder / "bad.json").write_text(
        json.dumps({"kind": store.KIND, "started": "x", "cells": [{"package": 1}]})
    )
    (folder / "nan.json").write_text('{"kind": "labs-compat", "started": NaN}')
    store.save(
        tmp_path.parent, {**_document("2026-01-02T00-00-00Z", _cell("x", "3.13")), "machine": tmp_path.name}
    )
    documents, problems = store.load(tmp_path)
    assert [d["cells"][0]["package"] for d in documents] == ["x"]
    assert sorted(p.split(":")[0] for p in problems) == ["compat/bad.json", "compat/nan.json"]


def test_the_newest_probe_of_a_package_and_runtime_wins():
    old = _document("2026-01-01T00-00-00Z", _cell("fakegil", "3.13t", gil=GIL_FAIL), _cell("y", "3.13"))
    new = _document("2026-02-01T00-00-00Z", _cell("fakegil", "3.13t"))
    cells = store.latest_cells([old, new])
    assert cells[("fakegil", "3.13t")]["gil"]["status"] == "ok"
    assert ("y", "3.13") in cells


def test_the_section_gives_a_reason_in_every_cell_that_is_not_green():
    document = {
        **_document(
            "2026-01-01T00-00-00Z",
            _cell("fakegil", "3.13t", gil=GIL_FAIL),
            _cell(
                "fakesingle", "3.13", subinterpreter=SUB_FAIL, gil={"status": "n/a", "reason": "GIL build"}
            ),
            _cell(
                "nowheel",
                "3.13t",
                wheel={"status": "fail", "reason": "no wheel for this interpreter: sdist only"},
            ),
        ),
        "source": "compat/x.json",
    }
    document["cells"][2].update(
        {c: {"status": "skip", "reason": "not installed"} for c in store.CHECK_FIELDS[1:]}
    )
    view = MachineView(MACHINE, "default", {}, [], [], compat=[document])
    found = compatibility(view)
    text = "\n".join(found.lines)
    assert "✗ GIL re-enabled by fakegil" in text
    assert "✗ fakesingle: does not support loading in subinterpreters" in text
    assert "✗ no wheel for this interpreter: sdist only" in text
    for row in table.rows(store.latest_cells([document])):
        for value in row[2:7]:
            assert value == "✓" or len(value) > 2, row  # a mark alone is green; anything else says why
    assert any("fakegil (fakegil)" in f for f in found.findings)
    assert any("fakesingle (fakesingle)" in f for f in found.findings)
    assert any("nowheel on 3.13t" in f for f in found.findings)


def test_the_report_reads_compat_files_beside_the_runs(tmp_path):
    shutil.copytree(FIXTURES, tmp_path, dirs_exist_ok=True)
    store.save(tmp_path, _document("2026-01-01T00-00-00Z", _cell("fakegil", "3.13t", gil=GIL_FAIL)))
    written, problems = build.write_reports(tmp_path)
    assert problems == []
    report = next(path for path in written if path.name == "REPORT.md")
    text = report.read_text(encoding="utf-8")
    assert "## Will your dependencies survive? Extension compatibility" in text
    assert "| fakegil | 3.13t |" in text and "GIL re-enabled by fakegil" in text
