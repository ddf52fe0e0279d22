"""Side by side: every arm of a question timed in the same processes, stored as pyperf benchmarks that
pair by process."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest
from labtest import lab_command

from labs.analyse import estimates
from labs.analyse.runs import Bench
from labs.core import runtime
from labs.measure.harness import read_outcome
from labs.plan.key import BenchKey

ROOT = Path(__file__).resolve().parents[2]
SERIAL = BenchKey("matrix", "fib", "serial", "n-workers", 1)


def arms_process(
    tmp_path: Path, arms: list[BenchKey], env: dict | None = None
) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "-m", "labs.measure.arms", "--lab-key", SERIAL.to_json(),
        "--lab-arms", json.dumps([key.to_json() for key in arms]), "--lab-group", "g1", "--lab-block", "3",
        "--lab-seed", "7", "--lab-size", "2", "--lab-outcome", str(tmp_path / "outcome.json"),
        "--values", "2", "--warmups", "1", "-o", str(tmp_path / "out.json"),
    ]  # fmt: skip
    environ = {**os.environ, **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT, env=environ)


def test_one_process_times_every_arm_and_writes_one_pyperf_benchmark_each(tmp_path):
    threads = [BenchKey("matrix", "fib", "threads", "n-workers", n) for n in (1, 2)]
    too_many = BenchKey("matrix", "fib", "threads", "n-workers", 4 * runtime.usable_cpus() + 1)
    done = arms_process(tmp_path, [*threads, too_many])
    assert done.returncode == 0, done.stderr
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "out.json"))  # pyperf reads it as its own
    assert suite.get_benchmark_names() == [SERIAL.name, *(key.name for key in threads)]
    for benchmark in suite.get_benchmarks():
        (run,) = benchmark.get_runs()
        assert len(run.values) == 2 and len(run.warmups) == 1
        metadata = run.get_metadata()
        assert metadata["lab_group"] == "g1" and metadata["lab_block"] == 3 and metadata["lab_arms"] == 3
        named = metadata.get("lab_paired_with")
        assert (named is None) == (benchmark.get_name() == SERIAL.name)
        assert named is None or BenchKey.from_json(named) == SERIAL
    # the arm it cannot measure is left out and named; the others stand
    failed = json.loads((tmp_path / "outcome.json").read_text())["arms_failed"]
    assert list(failed) == [too_many.name] and "refusing to measure a scaling curve" in failed[too_many.name]


def test_fork_arms_are_forked_by_helpers_before_any_thread_and_timed_in_the_same_rounds(tmp_path):
    fork = [BenchKey("matrix", "fib", "processes-fork", "n-workers", n) for n in (1, 2)]
    threads = BenchKey("matrix", "fib", "threads", "n-workers", 2)
    done = arms_process(tmp_path, [threads, *fork], env={"PYTHONWARNINGS": "always::DeprecationWarning"})
    assert done.returncode == 0, done.stderr
    assert "multi-threaded" not in done.stderr  # Python 3.12+ warns of a fork of a multi-threaded process
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "out.json"))
    assert set(suite.get_benchmark_names()) == {SERIAL.name, threads.name, *(key.name for key in fork)}
    for key in fork:
        (run,) = suite.get_benchmark(key.name).get_runs()
        assert len(run.values) == 2 and run.get_metadata()["lab_start_method"] == "fork"
    assert json.loads((tmp_path / "outcome.json").read_text())["arms_failed"] == {}


def test_bad_arms_are_one_error_line_and_nothing_written(tmp_path):
    done = arms_process(tmp_path, [BenchKey("matrix", "fib", "threads", "pipeline", 2)])
    assert done.returncode == 2 and done.stderr.startswith("ERROR: fib/threads/pipeline/w2: an arm")
    assert done.stderr.count("\n") == 1 and "n-workers" in (read_outcome(tmp_path / "outcome.json") or "")
    assert not (tmp_path / "out.json").exists()


def _bench(name: str, processes: list[list[float]], group: str | None, blocks: list[int]) -> Bench:
    meta = {"name": name, "unit": "second", **({"lab_group": group} if group else {})}
    runs = [{"lab_block": block} for block in blocks]
    return Bench(name, [v for p in processes for v in p], meta, runs, processes)


def test_two_arms_of_one_group_pair_by_process_and_drift_divides_out():
    # the host's speed moves 40% between processes; within each, b is 10% slower than a
    speeds = [1.0, 1.4, 0.9, 1.2, 1.05]
    a = [[s, s] for s in speeds]
    b = [[1.1 * s, 1.1 * s] for s in speeds]
    blocks = list(range(len(speeds)))
    paired = estimates.time_ratio(_bench("a", a, "g", blocks), _bench("b", b, "g", blocks))
    assert paired.method == "paired" and paired.value == pytest.approx(1.1)
    assert paired.ci == pytest.approx((1.1, 1.1))  # exact: no spread left once paired
    apart = estimates.time_ratio(_bench("a", a, None, blocks), _bench("b", b, None, blocks))
    assert apart.method == "unpaired" and apart.high / apart.low > 1.3  # drift widens it
    # other groups, or blocks that do not line up, are not pairs
    other = estimates.time_ratio(_bench("a", a, "g", blocks), _bench("b", b, "h", blocks))
    shifted = estimates.time_ratio(_bench("a", a, "g", blocks), _bench("b", b, "g", [*blocks[1:], 9]))
    assert other.method == shifted.method == "unpaired"


def test_a_bench_of_side_by_side_arms_stores_a_paired_group(tmp_path):
    done = lab_command(
        "bench", "--no-fingerprint", "--quick", "--suite", "matrix", "--no-startup", "-w", "fib",
        "-m", "threads,processes-forkserver", "--results", str(tmp_path / "results"), timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "fib: serial and 2 arms side by side: 2 arms and serial in 1 processes" in done.stdout
    (path,) = sorted((tmp_path / "results").glob("*/*/*.json"))
    suite = pyperf.BenchmarkSuite.load(str(path))
    groups = {b.get_metadata().get("lab_group") for b in suite.get_benchmarks()}
    assert len(groups) == 1 and None not in groups
    assert not [name for name in suite.get_benchmark_names() if "@" in name]  # no per-bench baselines
    values = {b.get_name(): b.get_values() for b in suite.get_benchmarks()}
    assert all(len(v) == 2 and all(math.isfinite(x) and x > 0 for x in v) for v in values.values())


def test_runtimes_named_together_take_turns_and_each_gets_its_own_run_file(tmp_path):
    """One interpreter named twice (an A/A pair): two drivers whose measuring processes alternate, never
    overlap, and whose run files name their shared session and the runtimes they alternated with."""
    python = sys.executable
    done = lab_command(
        "bench", "--interpreters", f"{python},{python}", "--no-fingerprint", "--quick", "--suite", "matrix",
        "--no-startup", "-w", "fib,nbody", "-m", "threads", "--results", str(tmp_path / "results"),
        timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"2 runtimes side by side ({runtime.tag()}, {runtime.tag()})" in done.stdout
    files = sorted((tmp_path / "results").glob("*/*/*.json"))
    assert len(files) == 2
    records = [json.loads(path.read_text())["labs"] for path in files]
    assert records[0]["session"] == records[1]["session"]
    windows = []
    for index, record in enumerate(records):
        alternating = record["alternating"]
        assert alternating["runtimes"] == [runtime.tag(), runtime.tag()] and isinstance(
            alternating["seed"], int
        )
        assert len(alternating["turns"]) == 2  # one process for each of fib's and nbody's groups
        windows += [(start, end, index) for start, end in alternating["turns"]]
    windows.sort()
    for (_, end, _), (start, _, _) in itertools.pairwise(windows):
        assert end <= start  # one turn at a time
    # the session knows these two were paired in time
    compared = lab_command("compare", str(files[0]), str(files[1]), timeout=60)
    assert "paired in time: one session, their measuring processes alternating" in compared.stdout


def test_interpreters_that_cannot_run_the_lab_are_one_error_line(tmp_path):
    done = lab_command("bench", "--interpreters", f"{sys.executable},/nonexistent/python", timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("ERROR: --interpreters: '/nonexistent/python' does not run")
    alone = lab_command("bench", "--with-gil-controls", timeout=60)
    assert alone.returncode == 2 and "goes with --interpreters" in alone.stderr
