"""A run survives whatever ends it: every finished bench is kept, and nothing the lab started lives on.

Real signals to a real ``labs bench``, a real deleted working directory and a real full file system
(a 64 KiB tmpfs, where the tests may mount one).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyperf
import pytest
from labtest import read_only, tmpfs

from labs.core import proctree
from labs.store import journal

ROOT = Path(__file__).resolve().parents[2]
BENCH = (sys.executable, "-m", "labs", "bench", "--no-fingerprint")


def start_bench(tmp_path: Path, *args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.Popen:
    command = [*BENCH, "--quick", "--suite", "matrix", "--no-startup"]
    command += ["--results", str(tmp_path / "results"), *args]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def read_until(process: subprocess.Popen, prefix: str) -> list[str]:
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith(prefix):
            return lines
    pytest.fail(f"the bench ended before printing {prefix!r}: {''.join(lines)} {process.stderr.read()}")


def alive(pids: list[int]) -> list[str]:
    left = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            left.append(f"{pid}: {Path(f'/proc/{pid}/cmdline').read_bytes()[:100]!r}")
    return left


def none_left(pids: list[int], seconds: float = 5.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


def stored(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "results").glob("*/*/*.json"))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_keeps_every_finished_bench_and_leaves_nothing_running(tmp_path, signum):
    process = start_bench(tmp_path, "-w", "fib,nbody,wordcount", "-m", "serial,processes-fork")
    read_until(process, "[2/")
    tree = proctree.descendants(process.pid)
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, err
    assert f"interrupted by {signal.Signals(signum).name}" in out and "Traceback" not in err
    (path,) = stored(tmp_path)
    record = json.loads(path.read_text())["labs"]
    assert record["interrupted"] is True and record["interrupted_by"] == signal.Signals(signum).name
    names = pyperf.BenchmarkSuite.load(str(path)).get_benchmark_names()
    assert {"fib/serial/n-workers/w1", "fib/processes-fork/n-workers/w2"} <= set(names)
    assert not list(path.parent.glob(f"*{journal.SUFFIX}"))  # the final file replaced the journal
    assert none_left(tree) == []


def test_after_sigkill_nothing_runs_on_and_resume_measures_only_what_is_missing(tmp_path):
    process = start_bench(tmp_path, "-w", "fib,nbody", "-m", "serial,processes-forkserver")
    read_until(process, "[1/")
    # into the forkserver bench: wait until a forkserver, its workers and a resource tracker exist
    deadline = time.monotonic() + 60
    while len(tree := proctree.descendants(process.pid)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # the workers' own children, if any
    tree = proctree.descendants(process.pid)
    process.kill()
    process.communicate(timeout=30)
    assert len(tree) >= 3 and none_left(tree) == []
    (journal_path,) = (tmp_path / "results").glob(f"*/*/*{journal.SUFFIX}")
    assert stored(tmp_path) == []  # SIGKILL runs no clean-up: the journal is what remains
    measured = journal.recover(journal_path).benchmarks
    # the first group (fib's serial baseline and its forkserver arm, side by side) is stored whole
    assert [b["metadata"]["name"] for b in measured] == [
        "fib/serial/n-workers/w1",
        "fib/processes-forkserver/n-workers/w2",
    ]

    resumed = subprocess.run(
        [*BENCH, "--results", str(tmp_path / "results"), "--resume", str(journal_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert (
        "resuming 2 measured" in resumed.stdout
        and "[1/1] nbody: serial and 1 arm side by side" in resumed.stdout
    )
    stale = list(Path(tempfile.gettempdir()).glob(f"labs-bench-{process.pid}-*"))
    assert not stale, f"--resume leaves the killed run's work folder: {stale}"
    (path,) = stored(tmp_path)
    data = json.loads(path.read_text())
    assert data["labs"]["resumed_from"] == journal_path.name and not journal_path.exists()
    names = pyperf.BenchmarkSuite.load(str(path)).get_benchmark_names()
    assert len(names) == 4  # 2 serial, 2 forkserver (side by side with its serial baseline)


def test_a_working_directory_deleted_under_the_run_loses_nothing(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    process = start_bench(tmp_path, "-w", "fib,nbody", "-m", "serial", cwd=gone)
    read_until(process, "[1/")
    gone.rmdir()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    (path,) = stored(tmp_path)
    assert len(json.loads(path.read_text())["benchmarks"]) == 2


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs with almost no room left (root only: skipped, with the reason, elsewhere)."""
    mount = tmp_path / "full"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip() or done.returncode}")
    try:
        (mount / "results").mkdir()
        with open(mount / "filler", "wb", buffering=0) as filler:  # nothing left for close() to flush
            try:
                while True:
                    filler.write(b"x" * 1024)
                    filler.flush()
            except OSError:
                pass
        os.truncate(mount / "filler", (mount / "filler").stat().st_size - 2048)  # room for the probe only
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_sends_the_run_to_a_named_fallback(tmp_path, full_disk):
    rescue_root = tmp_path / "tmp"
    rescue_root.mkdir()
    selection = ("--quick", "--suite", "matrix", "--no-startup", "-w", "fib,nbody", "-m", "serial")
    done = subprocess.run(
        [*BENCH, *selection, "--results", str(full_disk / "results")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "TMPDIR": str(rescue_root)},
    )
    assert done.returncode == 1, done.stderr
    assert "refused the run" in done.stdout and "fallback" in done.stdout and "Traceback" not in done.stderr
    (path,) = (rescue_root / "gil-lab-rescued").glob("*/*/*.json")
    assert str(path) in done.stdout
    saved = f"ERROR: the run was saved to {path}, not to the results directory (see above)"
    assert done.stderr.splitlines() == [saved]
    assert not list((full_disk / "results").rglob(f"*{journal.SUFFIX}"))  # no partial journal left behind
    assert len(pyperf.BenchmarkSuite.load(str(path)).get_benchmark_names()) == 2


def test_sigkill_of_a_run_whose_results_folder_was_full_from_the_start_loses_nothing(tmp_path, full_disk):
    rescue_root = tmp_path / "tmp"
    rescue_root.mkdir()
    results = ["--results", str(full_disk / "results")]
    selection = ("-w", "fib,nbody,wordcount", "-m", "serial")
    process = start_bench(tmp_path, *results, *selection, env={"TMPDIR": str(rescue_root)})
    first = "".join(read_until(process, "[2/"))
    assert "journal: " + str(rescue_root / "gil-lab-rescued") in first, first
    process.kill()
    process.communicate(timeout=30)
    (journal_path,) = (rescue_root / "gil-lab-rescued").glob(f"*/*/*{journal.SUFFIX}")
    names = [b["metadata"]["name"] for b in journal.recover(journal_path).benchmarks]
    assert "fib/serial/n-workers/w1" in names


def test_a_results_directory_turned_read_only_mid_run_loses_nothing(tmp_path):
    rescue_root = tmp_path / "tmp"
    rescue_root.mkdir()
    with tmpfs(tmp_path / "results", "8m") as mount:
        process = start_bench(
            tmp_path, "-w", "fib,nbody,wordcount", "-m", "serial", env={"TMPDIR": str(rescue_root)}
        )
        read_until(process, "[1/")
        read_only(mount)
        out, err = process.communicate(timeout=120)
    assert process.returncode == 1 and "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.startswith("ERROR: the run was saved to "), err
    assert "journal stopped" in out and "fallback" in out
    (path,) = (rescue_root / "gil-lab-rescued").glob("*/*/*.json")
    assert len(pyperf.BenchmarkSuite.load(str(path)).get_benchmark_names()) == 3


def test_sigkill_during_an_io_bench_takes_its_server_along_and_the_next_run_sweeps_its_folder(tmp_path):
    process = start_bench(tmp_path, "-w", "download", "-m", "serial,threads", "-n", "4")
    read_until(process, "[1/")
    deadline = time.monotonic() + 60
    while not any(b"labs.workloads.io.server" in _cmdline(pid) for pid in proctree.descendants(process.pid)):
        assert time.monotonic() < deadline, "the bench never started its HTTP server"
        time.sleep(0.05)
    tree = proctree.descendants(process.pid)
    killed = process.pid
    process.kill()
    process.communicate(timeout=30)
    assert none_left(tree) == []
    stale = list(Path(tempfile.gettempdir()).glob(f"labs-bench-{killed}-*"))
    assert stale, "a killed driver leaves its work folder (SIGKILL runs no clean-up)"
    again = start_bench(tmp_path, "-w", "fib", "-m", "serial")
    again.communicate(timeout=120)
    assert again.returncode == 0 and not any(folder.exists() for folder in stale)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
