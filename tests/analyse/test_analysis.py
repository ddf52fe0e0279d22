"""Statistics against independently computed values, and compare from stored runs (the report's tests
are in tests/report/)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from labtest import lab_command

from labs.analyse import stats
from labs.store import runs as results

ROOT = Path(__file__).resolve().parents[2]
A = [0.101, 0.098, 0.105, 0.110, 0.099, 0.102, 0.097, 0.104, 0.100]
B = [0.112, 0.109, 0.118, 0.111, 0.120, 0.108]


def test_mann_whitney_matches_scipy_with_and_without_ties():
    # Expected values from scipy.stats.mannwhitneyu(..., method="asymptotic"), SciPy 1.18.1.
    assert stats.mann_whitney_u(A, B) == pytest.approx((2.0, 0.0038849847804668185), rel=1e-12)
    ties = stats.mann_whitney_u([1, 2, 2, 3, 3, 3, 4], [3, 3, 4, 5, 5, 6])
    assert ties == pytest.approx((5.5, 0.02683259993623742), rel=1e-12)


def test_bootstrap_ci_brackets_the_ratio_and_agrees_with_scipy():
    low, high = stats.bootstrap_ratio_ci(A, B)
    ratio = stats.mean(B) / stats.mean(A)
    assert low < ratio < high
    # scipy.stats.bootstrap(percentile, 20,000 resamples) gives [1.0670, 1.1554] for this data.
    assert low == pytest.approx(1.0670, abs=0.006) and high == pytest.approx(1.1554, abs=0.006)
    assert stats.bootstrap_ratio_ci(A, B) == (low, high)  # seeded: reports rebuild identically


def test_amdahl_recovers_a_known_serial_fraction():
    workers = [1, 2, 4, 8, 16]
    speedups = [1 / (0.1 + 0.9 / n) for n in workers]
    assert stats.amdahl_serial_fraction(workers, speedups) == pytest.approx(0.1)
    assert stats.amdahl_serial_fraction([1], [1.0]) is None


def _fake_run(root: Path, tag: str, stamp: str, values: dict[str, list[float] | list[list[float]]]) -> Path:
    """A stored run; a bench's values are one process's, or a list of each process's values."""
    benchmarks = [
        {
            "metadata": {"name": name, "unit": "second"},
            "runs": [{"values": p} for p in (vals if isinstance(vals[0], list) else [vals])],
        }
        for name, vals in values.items()
    ]
    record = {"machine": "2cpu-test", "started": stamp, "mode": "default", "runtime": {"version": tag + ".0"}}
    return results.save_run(root, tag, {"version": "1.0", "benchmarks": benchmarks}, record)


def compare_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return lab_command("compare", "--results", str(root), *args, timeout=60)


def test_compare_flags_a_regression_and_gates_on_it(tmp_path):
    """One runtime, two runs (two commits, two sessions): 35% slower is a REGRESSION and compare fails,
    beyond the 6% the host may drift between sessions (the noise profile's default)."""
    slow = [[v * 1.35 for v in A[i : i + 3]] for i in range(5)]
    fast = [A[i : i + 3] for i in range(5)]
    before = _fake_run(
        tmp_path, "3.13", "2026-01-01T00-00-00Z", {"x/serial/n-workers/w1": fast, "only/old": A}
    )
    after = _fake_run(tmp_path, "3.13", "2026-01-02T00-00-00Z", {"x/serial/n-workers/w1": slow})
    done = compare_cli(tmp_path, str(before), str(after), "--table")
    assert done.returncode == 1, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("| x/serial"))
    assert "| 1.350 |" in row and "REGRESSION" in row and "| 5x3 | 5x3 |" in row, row
    assert "Benjamini-Hochberg over the 1 tested benches" in done.stdout
    assert "only in 3.13@2026-01-01T00-00-00Z: only/old" in done.stdout
    reverse = compare_cli(tmp_path, str(after), str(before))
    assert reverse.returncode == 0 and "improvement" in reverse.stdout


def test_two_files_of_one_runtime_in_any_folders_are_one_runtime(tmp_path):
    """CI compares base/run.json with head/run.json: the folder names are not runtimes; the runtime each
    run recorded is, so a slowdown stays a REGRESSION and fails the job."""
    slow = [[v * 1.35 for v in A[i : i + 3]] for i in range(5)]
    sides = {}
    for side, values in (("base", [A[i : i + 3] for i in range(5)]), ("head", slow)):
        stored = _fake_run(tmp_path / side, "3.13", "2026-01-01T00-00-00Z", {"x/serial/n-workers/w1": values})
        data = json.loads(stored.read_text())
        data["labs"]["runtime"]["tag"] = "3.13"
        sides[side] = tmp_path / side / "run.json"
        sides[side].write_text(json.dumps(data))
    done = compare_cli(tmp_path, str(sides["base"]), str(sides["head"]))
    assert done.returncode == 1 and "REGRESSION" in done.stdout, done.stdout + done.stderr


def test_between_runtimes_a_difference_is_slower_or_faster_never_a_regression(tmp_path):
    slow = [[v * 1.35 for v in A[i : i + 3]] for i in range(5)]
    _fake_run(
        tmp_path, "3.13", "2026-01-01T00-00-00Z", {"x/serial/n-workers/w1": [A[i : i + 3] for i in range(5)]}
    )
    _fake_run(tmp_path, "3.14", "2026-01-02T00-00-00Z", {"x/serial/n-workers/w1": slow})
    done = compare_cli(tmp_path, "3.13", "3.14", "--json")
    assert done.returncode == 0, done.stderr
    (bench,) = json.loads(done.stdout)["comparisons"][0]["benches"]
    assert bench["verdict"] == "slower" and bench["flagged"] and bench["ratio"] == pytest.approx(1.35)
    assert "faster" in compare_cli(tmp_path, "3.14", "3.13").stdout


def test_compare_of_two_runtimes_as_the_readme_shows_reads_the_committed_reports_runs():
    """`labs compare 3.13 3.13t --table` from the repository root: the runs the report reads for each
    runtime (on the machine that has both), the default CPU benches bench for bench, paired serial
    baselines folded into their benches, and "slower"/"faster", never "REGRESSION"."""
    done = lab_command("compare", "3.13", "3.13t", "--table", timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "/n-workers/" in line]
    cpu = [r for r in rows if r.split("/")[0].lstrip("| ") in ("fib", "nbody", "parsing", "hashing")]
    assert len(cpu) >= 20, done.stdout
    assert not any("@" in r.split(" | ")[0] for r in rows)  # no paired baseline as a row of its own
    assert "REGRESSION" not in done.stdout and "slower" in done.stdout
    assert "the report's default-mode runs" in done.stdout


def test_compare_with_one_process_says_so(tmp_path):
    _fake_run(tmp_path, "3.13", "2026-01-01T00-00-00Z", {"b": [1.0]})
    _fake_run(tmp_path, "3.14", "2026-01-02T00-00-00Z", {"b": [2.0, 2.1, 2.2]})
    done = compare_cli(tmp_path, "3.13", "3.14")
    assert done.returncode == 0 and "not tested (1+1 processes: needs 2+ a side)" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["3.13"], "compare needs at least two runs"),
        (["3.13", "3.99"], "no stored run for '3.99'; runtimes with results: 3.13"),
        (["3.13", "missing.json"], "no such results file: missing.json"),
        (["3.13", "3.13", "--threshold", "2"], "threshold must be a fraction in [0, 1)"),
    ],
)
def test_compare_bad_input(tmp_path, args, message):
    _fake_run(tmp_path, "3.13", "2026-01-01T00-00-00Z", {"b": A})
    done = compare_cli(tmp_path, *args)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()  # one line, and it says what was wrong
    assert line.startswith("ERROR: ") and message in line


def test_compare_with_nothing_in_common_exits_2_and_reports_corrupt_files(tmp_path):
    _fake_run(tmp_path, "3.13", "2026-01-01T00-00-00Z", {"a": A})
    _fake_run(tmp_path, "3.14", "2026-01-02T00-00-00Z", {"b": B})
    (tmp_path / "2cpu-test" / "3.14" / "junk.json").write_text("[]")
    done = compare_cli(tmp_path, "3.13", "3.14")
    assert done.returncode == 2
    assert "warning: left out" in done.stderr and "junk.json: not a pyperf BenchmarkSuite file" in done.stderr
    assert "ERROR: nothing to compare" in done.stderr
