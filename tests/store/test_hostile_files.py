"""Result files are untrusted input: whatever sits under results/, report and compare end in bounded
time and memory with a warning or one ERROR line, never a hang or a traceback."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from labtest import ROOT, run_cli

FIXTURE = ROOT / "tests" / "data" / "results" / "2cpu-3354490b" / "3.13" / "2026-11-29T21-41-54Z.json"


@pytest.fixture
def results(tmp_path: Path) -> Path:
    folder = tmp_path / "results" / "2cpu-3354490b" / "3.13"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURE, folder / FIXTURE.name)
    return tmp_path / "results"


def _with_key(results: Path, key: str) -> Path:
    data = json.loads(FIXTURE.read_text())
    data["benchmarks"][0]["metadata"]["lab_key"] = key
    path = results / "2cpu-3354490b" / "3.13" / "2026-11-29T21-41-55Z.json"
    path.write_text(json.dumps(data))
    return path


def _fifo(results: Path) -> Path:
    path = results / "2cpu-3354490b" / "3.13" / "x.json"
    os.mkfifo(path)
    return path


def _zero(results: Path) -> Path:
    path = results / "2cpu-3354490b" / "3.13" / "x.json"
    path.symlink_to("/dev/zero")
    return path


HOSTILE_KEYS = {
    "workers-1e400": '{"suite": "matrix", "workload": "fib", "workers": 1e400}',
    "workers-Infinity": '{"suite": "matrix", "workload": "fib", "workers": Infinity}',
    "deep-key": "[" * 100_000,
}
HOSTILE_FILES = {"fifo": _fifo, "link-to-dev-zero": _zero}


@pytest.mark.parametrize("make", HOSTILE_FILES.values(), ids=HOSTILE_FILES.keys())
def test_a_file_that_is_not_a_regular_file_is_left_out_or_refused_in_one_line(results, make):
    hostile = make(results)
    reported = run_cli("report", "--results", str(results), timeout=120)
    assert reported.returncode == 0 and "Traceback" not in reported.stderr, reported.stderr
    assert f"left out {hostile}: not readable JSON (not a regular file" in reported.stderr, reported.stderr
    compared = run_cli("compare", str(hostile), str(results / "2cpu-3354490b" / "3.13" / FIXTURE.name))
    assert compared.returncode == 2, compared.stderr
    lines = compared.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: ") and len(lines[0]) < 500, compared.stderr
    by_tag = run_cli("compare", "2cpu-3354490b/3.13", "2cpu-3354490b/3.13", "--results", str(results))
    assert "Traceback" not in by_tag.stderr, by_tag.stderr
    assert not reported.leftover and not compared.leftover


@pytest.mark.parametrize("key", HOSTILE_KEYS.values(), ids=HOSTILE_KEYS.keys())
def test_a_bench_key_beyond_any_number_or_depth_costs_that_bench_not_the_command(results, key):
    hostile = _with_key(results, key)
    reported = run_cli("report", "--results", str(results), timeout=120)
    assert reported.returncode == 0 and "Traceback" not in reported.stderr, reported.stderr
    compared = run_cli("compare", str(hostile), str(results / "2cpu-3354490b" / "3.13" / FIXTURE.name))
    assert compared.returncode in (0, 1) and "Traceback" not in compared.stderr, compared.stderr
