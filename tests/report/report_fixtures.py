"""The report written from the fixture runs, for the report tests that read it whole.

A helper imported by name rather than a conftest.py: a second conftest module would shadow
tests/conftest.py, which the tests import helpers from.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from labs.report import build

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "results"


def write_fixture_reports(root: Path) -> tuple[Path, Path]:
    """REPORT.md and REPORT.html written by ``write_reports`` over a copy of the fixture runs in *root*."""
    shutil.copytree(FIXTURES, root, dirs_exist_ok=True)
    written, problems = build.write_reports(root, all_sessions=True)  # the fixtures' sessions, merged
    assert problems == []
    markdown_path, html_path, profile = written
    assert profile.name == "noise.json"
    assert (markdown_path.name, html_path.name) == ("REPORT.md", "REPORT.html")
    return markdown_path, html_path
