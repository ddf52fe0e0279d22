"""The bench pipeline end to end with real pyperf runs at the smallest settings, and the results store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import pyperf
import pytest
from labtest import lab_command

from labs.core import machine, runtime
from labs.measure import fingerprint
from labs.measure.harness import read_outcome
from labs.plan import discovery
from labs.plan.key import BenchKey
from labs.store import runs as results

ROOT = Path(__file__).resolve().parents[2]
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def bench(tmp_path, *args, env=None, timeout=180, fingerprint=False):
    """The CPU matrix only: the costs and I/O suites have tests of their own."""
    return lab_command(
        "bench",
        *(() if fingerprint else ("--no-fingerprint",)),
        "--suite",
        "matrix",
        "--kind",
        "cpu",
        "--results",
        str(tmp_path / "results"),
        *args,
        timeout=timeout,
        env=env,
    )


def stored(tmp_path) -> list[Path]:
    return sorted((tmp_path / "results").glob("*/*/*.json"))


def test_quick_bench_end_to_end_is_pyperf_json_with_lab_metadata(tmp_path):
    done = bench(
        tmp_path, "--quick", "-w", "fib", "-m", "serial,threads", "-p", "n-workers,pipeline", fingerprint=True
    )
    assert done.returncode == 0, done.stderr
    assert "[1/" in done.stdout and "ETA" in done.stdout
    (path,) = stored(tmp_path)
    assert path.parent.name == runtime.tag() and path.parent.parent.name == results.machine_id()
    suite = pyperf.BenchmarkSuite.load(str(path))  # pyperf reads it unchanged
    names = set(suite.get_benchmark_names())
    assert {"fib/serial/n-workers/w1", "fib/threads/pipeline/w2", "startup/threads/w1"} <= names
    bench_ = suite.get_benchmark("fib/threads/n-workers/w2")
    metadata = bench_.get_metadata()
    assert metadata["lab_workload"] == "fib" and metadata["lab_workers"] == 2
    assert metadata["lab_gil_enabled"] == str(runtime.gil_enabled())
    assert all(value > 0 for value in bench_.get_values())
    text = path.read_text()
    assert "hostname" not in text and str(Path.home()) + "/" not in text
    record = json.loads(text)["labs"]
    assert record["failed"] == [] and record["interrupted"] is False
    # the machine's speed at both ends, taken by one interpreter, and the host's static facts
    ends = record["fingerprint"]["start"], record["fingerprint"]["end"]
    assert all(set(end["seconds"]) == set(fingerprint.KERNELS) for end in ends)
    assert ends[0]["python"] == ends[1]["python"] and record["fingerprint"]["drift"] >= 0
    assert record["host"]["static_id"] == machine.static_id(record["host"]["static"])
    # the lab's code: this checkout's commit, and whether the code that ran differs from it
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:
        assert record["source"]["commit"] == head.stdout.strip()
        assert isinstance(record["source"]["dirty"], bool)


def test_a_failing_bench_is_recorded_and_the_run_goes_on(tmp_path):
    done = bench(
        tmp_path,
        "--rigorous",
        "--bench-timeout",
        "1",
        "-w",
        "fib",
        "-m",
        "serial,threads",
        "-p",
        "n-workers",
        "-n",
        "1",
        "--no-startup",
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["ERROR: 2 benches failed (see above)"], done.stderr
    (path,) = stored(tmp_path)
    record = json.loads(path.read_text())["labs"]
    assert sorted(f["name"] for f in record["failed"]) == [
        "fib/serial/n-workers/w1",
        "fib/threads/n-workers/w1",
    ]
    # the two were measured side by side: their timeout is a bench's times two
    assert all(f["reason"] == "timed out after 2 s (2 benches side by side)" for f in record["failed"])


def test_ctrl_c_keeps_every_bench_already_measured(tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "labs",
            "bench",
            "--no-fingerprint",
            "--quick",
            "-w",
            "fib,nbody,wordcount",
            "-m",
            "serial,threads",
            "--suite",
            "matrix",
            "--results",
            str(tmp_path / "results"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
        # A terminal user's Ctrl-C: SIGINT handled by default, even if this test run ignores it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("[2/"):
            break
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 130, out
    (path,) = stored(tmp_path)
    data = json.loads(path.read_text())
    assert data["labs"]["interrupted"] is True
    assert len(data["benchmarks"]) >= 2
    assert len(data["benchmarks"]) < data["labs"]["planned"]


@pytest.mark.interpreter  # the GIL state is the runtime's
@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded build (3.13t) to switch the GIL")
@pytest.mark.parametrize(("python_gil", "tag", "enabled"), [("0", "t", "False"), ("1", "t-gil", "True")])
def test_metadata_carries_the_gil_state_observed(tmp_path, python_gil, tag, enabled):
    done = bench(
        tmp_path,
        "--quick",
        "-w",
        "fib",
        "-m",
        "threads",
        "-p",
        "n-workers",
        "--no-startup",
        env={"PYTHON_GIL": python_gil},
    )
    assert done.returncode == 0, done.stderr
    (path,) = stored(tmp_path)
    assert path.parent.name == f"{sys.version_info.major}.{sys.version_info.minor}{tag}"
    metadata = pyperf.BenchmarkSuite.load(str(path)).get_benchmark("fib/threads/n-workers/w2").get_metadata()
    assert metadata["lab_gil_enabled"] == enabled
    assert metadata["lab_PYTHON_GIL"] == python_gil


@pytest.mark.interpreter  # the GIL state is the runtime's
def test_on_a_default_build_the_gil_is_recorded_on(tmp_path):
    if FREE_THREADED:
        pytest.skip("the default build's case; the free-threaded one is tested above")
    done = bench(tmp_path, "--quick", "-w", "fib", "-m", "threads", "-p", "n-workers", "--no-startup")
    assert done.returncode == 0, done.stderr
    (path,) = stored(tmp_path)
    metadata = pyperf.BenchmarkSuite.load(str(path)).get_benchmark("fib/threads/n-workers/w2").get_metadata()
    assert metadata["lab_gil_enabled"] == "True" and metadata["lab_free_threaded_build"] == "False"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quick", "--rigorous"], "--quick and --rigorous exclude each other"),
        (["-w", "nope"], "unknown workload 'nope'; valid: nbody"),
        (["-m", "fib"], "unknown model 'fib'; valid: serial"),
        (["-p", "star"], "unknown pattern 'star'; valid: n-workers"),
        (["-n", "0"], "workers must be between 1 and 1024, got 0"),
    ],
)
def test_bench_bad_input_is_one_line_exit_2_nothing_written(tmp_path, args, message):
    done = bench(tmp_path, *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert not stored(tmp_path)


def test_an_unwritable_results_directory_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    done = lab_command("bench", "--quick", "--results", str(blocker / "results"), timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("ERROR: results directory") and "is not writable" in done.stderr
    assert blocker.read_text() == "not a directory"


def test_the_measuring_process_refuses_more_workers_than_its_cpus(tmp_path):
    key = BenchKey("matrix", "fib", "threads", "n-workers", 3)  # past 2 x the one CPU
    outcome = tmp_path / "outcome.json"
    lab_options = ["--lab-key", key.to_json(), "--lab-size", "2", "--lab-outcome", str(outcome)]
    done = subprocess.run(
        [sys.executable, "-m", "labs.measure.job", *lab_options, "--worker", "--values", "1", "--loops", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        preexec_fn=lambda: os.sched_setaffinity(0, {0}),
    )
    assert done.returncode == 2  # asked for what it cannot measure here
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("ERROR: this process may run on 1 CPU(s)")
    # the reason reaches the driver as data, not by scraping stderr
    assert read_outcome(outcome) == "this process may run on 1 CPU(s) but the bench asks for 3 workers " + (
        "(at most 2 x the CPUs): refusing to measure a scaling curve on pinned CPUs"
    )


def test_save_is_atomic_and_never_overwrites(tmp_path):
    record = {"machine": "2cpu-test", "started": "2026-01-01T00-00-00Z"}
    suite = {"version": "1.0", "benchmarks": []}
    first = results.save_run(tmp_path, "3.13", suite, record)
    second = results.save_run(tmp_path, "3.13", {**suite, "x": 1}, record)
    assert first != second and first.exists() and second.exists()
    assert "x" not in json.loads(first.read_text())
    assert {p.name for p in first.parent.iterdir()} == {first.name, second.name}  # no temp files left


def test_scrub_removes_host_and_home():
    scrubbed = results.scrub({"hostname": "box", "python_executable": f"{Path.home()}/x/python", "n": 3})
    assert scrubbed == {"python_executable": "~/x/python", "n": 3}
    # a build configured in another user's home, or root's, and moved here (.ci/offline-bundle.sh)
    moved = results.scrub({"args": "'--prefix=/root/.pyenv/v' '-L/home/alice/.pyenv/v/lib'"})
    assert moved == {"args": "'--prefix=~/.pyenv/v' '-L~/.pyenv/v/lib'"}


def test_a_corrupt_result_is_reported_and_left_untouched(tmp_path):
    good = results.save_run(
        tmp_path,
        "3.13",
        {"version": "1.0", "benchmarks": []},
        {"machine": "m", "started": "2026-01-01T00-00-00Z"},
    )
    bad = tmp_path / "m" / "3.13" / "broken.json"
    bad.write_text("{not json")
    runs, problems = results.load_all(tmp_path)
    assert [path for path, _ in runs] == [good]
    assert len(problems) == 1 and "broken.json: not readable JSON" in problems[0]
    assert bad.read_text() == "{not json"


def test_discovery_finds_a_pyenv_interpreter_that_is_not_on_path(tmp_path, monkeypatch):
    tag = f"{sys.version_info.major}.{sys.version_info.minor}{'t' if FREE_THREADED else ''}"
    version = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    folder = tmp_path / "versions" / f"{version}{'t' if FREE_THREADED else ''}" / "bin"
    folder.mkdir(parents=True)
    (folder / f"python{tag}").symlink_to(getattr(sys, "_base_executable", sys.executable))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "no-uv"))
    found, missing = discovery.discover([tag])
    assert found[tag].path == str(folder / f"python{tag}")
    assert found[tag].version == version and found[tag].free_threaded == FREE_THREADED
    assert missing == {}
    assert "not installed" in discovery.discover(["3.15t"])[1]["3.15t"]


def test_resume_knows_a_memory_bench_by_its_planned_key():
    """Found in review: each memory bench stores one benchmark per metric, so matching stored names
    against planned names re-measured (and duplicated) every memory bench on --resume."""
    from labs.measure.driver import _planned_key

    stored = BenchKey("memory", model="threads", workers=2).with_params(metric="uss")
    assert _planned_key({"metadata": stored.metadata()}) == BenchKey("memory", model="threads", workers=2)
    matrix = BenchKey("matrix", "fib", "threads", "n-workers", 2)
    assert _planned_key({"metadata": matrix.metadata()}) == matrix
    assert _planned_key({"metadata": {"name": "not the lab's"}}) is None


def test_the_processes_of_neighbouring_benches_take_turns(tmp_path):
    """Three benches of the first tier take turns: even when a loaded host makes one of them suspect
    (it is measured again, later, and left out here), the other two overlapped in time."""
    done = bench(
        tmp_path, "-w", "fib", "-m", "serial,threads,asyncio", "-n", "2", "--no-startup", timeout=300
    )
    assert done.returncode == 0, done.stderr
    (path,) = stored(tmp_path)
    data = json.loads(path.read_text())
    assert data["labs"]["interleave"]["benches"] >= 3 and isinstance(data["labs"]["interleave"]["seed"], int)
    spans = {}
    for benchmark in data["benchmarks"]:
        dates = [run["metadata"]["date"] for run in benchmark["runs"]]
        assert len(dates) >= 5  # default mode: five processes at least
        name = benchmark["metadata"]["name"]
        # a suspect bench starts over, later; a paired baseline shares its bench's processes
        if "lab_remeasured_because" not in benchmark["metadata"] and "@" not in name:
            spans[name] = (min(dates), max(dates))
    first, *others = sorted(spans.values())
    assert any(start < first[1] for start, _ in others), spans  # one began before the first had ended


def test_ctrl_c_in_the_middle_of_a_batch_keeps_its_benches_with_what_they_have(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "labs", "bench", "--no-fingerprint", "--suite", "matrix", "--no-startup", "-w",
         "fib,nbody", "-m", "serial,threads,asyncio", "-n", "1,2", "--results", str(tmp_path / "results")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    for line in process.stdout:
        if line.startswith("journal:"):
            break
    journal_path = next((tmp_path / "results").glob("*/*/*.journal.jsonl"))
    deadline = time.monotonic() + 120
    # Until the first group (fib: serial and 4 arms side by side, measured alone) has three processes.
    outputs = Path(tempfile.gettempdir()).glob
    while time.monotonic() < deadline:
        if len([p for p in outputs(f"labs-bench-{process.pid}-*/*.json") if "baseline" not in p.name]) >= 3:
            break
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    (path,) = stored(tmp_path)
    benchmarks = json.loads(path.read_text())["benchmarks"]
    interrupted = [b for b in benchmarks if b["metadata"].get("lab_stop") == "interrupted"]
    assert interrupted and all(len(b["runs"]) >= 2 for b in interrupted)
    assert not journal_path.exists()


def test_pyperf_checks_say_what_pyperf_check_says(tmp_path):
    """The lab reads pyperf's check warnings through pyperf's private ``_cli.format_checks`` (pyperf is
    pinned below 3 for it): each bench's warnings must equal what the public ``python -m pyperf check``
    prints of the same bench, so a pyperf release that changed the function is caught here."""
    from labs.measure.bench import pyperf_checks

    stored = sorted((ROOT / "tests" / "data" / "results").rglob("*.json"))[0]
    suite = json.loads(stored.read_text())
    for index, one in enumerate(suite["benchmarks"][:4]):
        single = tmp_path / f"bench{index}.json"
        single.write_text(json.dumps({**suite, "benchmarks": [one]}))
        printed = subprocess.run(
            [sys.executable, "-m", "pyperf", "check", str(single)], capture_output=True, text=True, check=True
        ).stdout
        warnings = [line[2:] for line in printed.splitlines() if line.startswith("* ")]
        assert pyperf_checks(one, suite["version"]) == (" | ".join(warnings) or "none")
