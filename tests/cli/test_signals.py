"""Signals to a real `python -m labs run`: one line and the documented exit code for the catchable ones,
and nothing the lab started (workers, forkserver, resource tracker) still running 5 s later, SIGKILL
included.

Each test sends one signal to every model family at once: the runs are started together, each hangs in
its tasks (--fault hang says on stdout when a task hangs), then each gets the signal. SIGINT goes to the
whole process group, as a terminal's Ctrl-C does (workers included); the others go to the lab alone,
as `kill PID` does. Each run is its own session, so what it left is found by session id in /proc.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from labtest import ROOT, session_processes

from labs import models
from labs.cli import signals

# Each family once, with the patterns spread over them (a pipeline holds two more queues).
RUNS = [
    ("serial", "n-workers"),
    ("threads", "broadcast"),
    ("asyncio", "pipeline"),
    ("processes-fork", "pipeline"),
    ("processes-spawn", "n-workers"),
    ("processes-forkserver", "broadcast"),
    ("interpreters-pool", "n-workers"),
    ("interpreters-raw", "pipeline"),
]
EXPECTED = {
    signal.SIGINT: (130, "ERROR: interrupted"),
    signal.SIGTERM: (143, "ERROR: interrupted by SIGTERM"),
    signal.SIGHUP: (129, "ERROR: interrupted by SIGHUP"),
    signal.SIGKILL: (-signal.SIGKILL, None),  # nothing can be said; nothing may be left either
}
READY_TIMEOUT = 60  # all runs hang in their tasks within this, even on 2 busy cores
LEFTOVER_GRACE = 5
HANGS = b"hangs (--fault hang)"


def available_runs() -> list[tuple[str, str]]:
    return [(m, p) for m, p in RUNS if models.get(m).unavailable_reason() is None]


def start(model: str, pattern: str, tmp: Path | None = None) -> subprocess.Popen:
    """The run, with a temporary folder of its own when *tmp* is given (to see what it leaves there)."""
    options = ["-n", "2", "--size", "2", "--fault", "hang", "--timeout", "120"]
    if tmp is not None:
        tmp.mkdir(parents=True)
    return subprocess.Popen(
        [sys.executable, "-m", "labs", "run", "-w", "fib", "-m", model, "-p", pattern, *options],
        cwd=ROOT,
        env={**os.environ, **({"TMPDIR": str(tmp)} if tmp else {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_until_hanging(runs: dict[tuple[str, str], subprocess.Popen]) -> None:
    """Read each run's stdout until every task it started hangs: 1 for serial (it runs one task at a
    time), 2 (one per worker) for every other model. Raw reads: a buffered readline could keep the
    second line of a chunk where the selector cannot see it."""
    selector = selectors.DefaultSelector()
    wanted, seen = {}, {}
    for (model, _), process in runs.items():
        selector.register(process.stdout.fileno(), selectors.EVENT_READ, process)
        wanted[process.pid], seen[process.pid] = (1 if model == "serial" else 2), b""
    deadline = time.monotonic() + READY_TIMEOUT
    while any(seen[pid].count(HANGS) < count for pid, count in wanted.items()):
        if time.monotonic() > deadline:
            late = [run for run, p in runs.items() if seen[p.pid].count(HANGS) < wanted[p.pid]]
            pytest.fail(f"not hanging after {READY_TIMEOUT} s: {late}")
        for key, _ in selector.select(timeout=1):
            process = key.data
            chunk = os.read(key.fd, 65536)
            if not chunk:
                selector.unregister(key.fd)
                pytest.fail(f"{process.args} ended before hanging: {process.stderr.read()}")
            seen[process.pid] += chunk
    selector.close()


@pytest.fixture
def short_tmp():
    """A temporary folder with a short path: forkserver's socket path must fit AF_UNIX's 108 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="lab-sig-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def left_running(pid: int) -> list[str]:
    deadline = time.monotonic() + LEFTOVER_GRACE
    while (left := session_processes(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.parametrize("signum", list(EXPECTED), ids=lambda s: signal.Signals(s).name)
def test_a_signal_ends_every_model_cleanly_and_leaves_nothing_running(signum, short_tmp):
    folders = {run: short_tmp / str(index) for index, run in enumerate(available_runs())}
    runs = {run: start(*run, folder) for run, folder in folders.items()}
    try:
        wait_until_hanging(runs)
        for process in runs.values():
            if signum == signal.SIGINT:
                os.killpg(process.pid, signum)  # a terminal's Ctrl-C: the whole foreground group
            else:
                os.kill(process.pid, signum)
        code, message = EXPECTED[signum]
        problems = []
        for run, process in runs.items():
            name = "/".join(run)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                problems.append(f"{name}: still running 15 s after {signal.Signals(signum).name}")
                continue
            if left := left_running(process.pid):
                problems.append(f"{name}: left running {LEFTOVER_GRACE} s later: {left}")
                os.killpg(process.pid, signal.SIGKILL)  # they hold its pipes open
            _, stderr = process.communicate(timeout=15)
            if process.returncode != code:
                problems.append(f"{name}: exit {process.returncode}, expected {code}: {stderr!r}")
            if message is not None and stderr.splitlines() != [message]:
                problems.append(f"{name}: stderr is not the one line {message!r}: {stderr!r}")
            if message is not None and (kept := sorted(p.name for p in folders[run].iterdir())):
                problems.append(f"{name}: left in its temporary folder: {kept}")
        assert not problems, "\n".join(problems)
    finally:
        for process in runs.values():
            if session_processes(process.pid):
                os.killpg(process.pid, signal.SIGKILL)
            process.kill()
            process.communicate()


def test_an_interrupted_race_stops_at_once_even_when_interrupted_twice():
    process = subprocess.Popen(
        [sys.executable, "-m", "labs", "race", "--increments", "100000000"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout.readline().startswith("shared counter, 2 threads x 100000000 increments")
        time.sleep(0.3)  # inside the first strategy's threads
        os.kill(process.pid, signal.SIGINT)
        sent = time.monotonic()
        time.sleep(0.05)
        os.kill(process.pid, signal.SIGINT)  # an impatient second Ctrl-C
        _, stderr = process.communicate(timeout=15)
        assert time.monotonic() - sent < 3  # it used to run 15 s or more
        assert process.returncode == 130
        assert stderr.splitlines() == ["ERROR: interrupted"]
    finally:
        process.kill()
        process.communicate()


def test_the_clean_up_finds_a_child_started_from_another_thread():
    # /proc/PID/task/PID/children lists only the main thread's children; the net under the models must
    # also find what a worker thread started (the subprocesses workload does just that) while that
    # thread still runs.
    started, release = [], threading.Event()

    def start_and_stay() -> None:
        started.append(subprocess.Popen(["sleep", "30"]))
        release.wait()

    thread = threading.Thread(target=start_and_stay)
    thread.start()
    try:
        while not started:
            time.sleep(0.01)
        assert started[0].pid in signals.descendants(os.getpid())
    finally:
        for child in started:
            child.kill()
            child.wait()
        release.set()
        thread.join()
    assert started[0].pid not in signals.descendants(os.getpid())
