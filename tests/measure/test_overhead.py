"""The dispatch-overhead script: real pools, one ERROR line for anything it cannot measure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyperf
import pytest

ROOT = Path(__file__).resolve().parents[2]


def overhead(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "labs.measure.overhead", *args, "-o", str(tmp_path / "out.json")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lab-workload", "nope"], "unknown workload 'nope'"),
        (["--lab-workers", "0"], "workers must be between 1 and 1024"),
        (["--lab-workload", "download"], "overhead measures CPU workloads only; 'download' is io"),
        (["--lab-workers", "two"], "--lab-workers: invalid int value"),
    ],
)
def test_what_it_cannot_measure_is_one_error_line(tmp_path, args, message):
    done = overhead(*args, tmp_path=tmp_path)  # as a user runs it: pyperf's manager refuses first
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: ") and message in lines[0], done.stderr
    assert not (tmp_path / "out.json").exists()


def test_an_output_folder_that_does_not_exist_is_refused_before_measuring(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "labs.measure.overhead", "-o", str(tmp_path / "no" / "out.json")],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"ERROR: -o {tmp_path / 'no' / 'out.json'}: the folder "
                                        f"{str(tmp_path / 'no')!r} does not exist"]  # fmt: skip


def test_it_times_the_lab_and_a_bare_executor_on_the_same_work(tmp_path):
    one_process = ("--worker", "--values", "1", "--loops", "1")
    done = overhead("--lab-workload", "fib", "--lab-workers", "2", *one_process, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    names = pyperf.BenchmarkSuite.load(str(tmp_path / "out.json")).get_benchmark_names()
    assert set(names) == {
        f"dispatch/{m}/{side}" for m in ("threads", "processes-fork") for side in ("lab", "bare")
    }
