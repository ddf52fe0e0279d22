"""The scale-out engines, for real: Dask's scheduler and workers, Celery's workers on redis-server.

Each test runs the lab's CLI as a user would and checks what it left running. The rehearsal starts the
cluster the way a user would on two hosts (separate commands, addresses on 127.0.0.1) and points the
lab at it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from labtest import ROOT, run_cli, session_processes

from labs import models

ENGINES = ("dask", "celery")


def need(model: str) -> None:
    why = models.get(model).unavailable_reason()
    if why:
        pytest.skip(f"{model} unavailable: {why}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def started(*commands: list[str]) -> Iterator[list[subprocess.Popen]]:
    """Processes a user would start by hand (in their own session), stopped after the block."""
    processes = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
        for command in commands
    ]  # fmt: skip
    try:
        yield processes
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until(ready: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not ready():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the cluster did not come up"
        time.sleep(0.2)


@contextlib.contextmanager
def dask_cluster(workers: int = 2) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    need("dask")
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    host, port = address.removeprefix("tcp://").split(":")
    scheduler = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", host, "--port", port]
    scheduler += ["--dashboard-address", ":0", "--no-show"]
    worker = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1"]
    worker += ["--no-dashboard", "--host", "127.0.0.1"]
    with started(scheduler, worker, worker) as processes:

        def all_up() -> bool:
            try:
                with Client(address, timeout=2) as client:
                    return len(client.scheduler_info()["workers"]) >= workers
            except OSError:
                return False

        wait_until(all_up)
        yield address, processes


@contextlib.contextmanager
def celery_cluster(workers: int = 2) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    need("celery")
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server (apt-get install redis-server)")
    from labs.models.celery_app import make_app

    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    redis = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    worker = [sys.executable, "-m", "celery", "-A", "labs.models.celery_app", "worker", "--pool", "prefork"]
    worker += ["--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", "ERROR"]
    env_before = os.environ.get("LABS_CELERY_BROKER")
    os.environ["LABS_CELERY_BROKER"] = url  # the workers' broker, as a user exports it
    if os.geteuid() == 0:
        os.environ.setdefault("C_FORCE_ROOT", "1")  # celery refuses root with pickle otherwise
    try:
        with started(redis, [*worker, "-n", "a@localhost"], [*worker, "-n", "b@localhost"]) as processes:
            app = make_app(url)
            wait_until(lambda: len(app.control.ping(timeout=0.5)) >= workers)
            app.close()
            yield url, processes
    finally:
        if env_before is None:
            os.environ.pop("LABS_CELERY_BROKER", None)
        else:
            os.environ["LABS_CELERY_BROKER"] = env_before


@pytest.mark.interpreter  # whether the engines install and run depends on the runtime
@pytest.mark.parametrize("model", ENGINES)
def test_nbody_verifies_on_each_engine_with_nothing_left_running(model):
    need(model)
    done = run_cli("run", "-w", "nbody", "-m", model, "-n", "2", "--size", "4", timeout=180)
    assert done.returncode == 0, done.stderr
    assert "verified" in done.stdout and f"{model}" in done.stdout
    assert not done.leftover


@pytest.mark.parametrize("model", ENGINES)
@pytest.mark.parametrize("pattern", ["pipeline", "broadcast", "map"])
def test_every_pattern_verifies_on_each_engine(model, pattern):
    need(model)
    done = run_cli("run", "-w", "fib", "-m", model, "-p", pattern, "-n", "2", "--size", "6", timeout=180)
    assert done.returncode == 0, done.stderr
    assert "6 results equal the serial reference" in done.stdout
    assert not done.leftover


@pytest.mark.parametrize("model", ENGINES)
@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("raise", "a task failed: InjectedFault: injected fault on task 2"),
        ("kill", "a worker died: "),
        ("hang", "no result before the run's timeout"),
    ],
)
def test_a_fault_is_one_error_line_and_nothing_is_left_running(model, fault, message):
    need(model)
    args = ["run", "-w", "fib", "-m", model, "-n", "2", "--size", "2", "--fault", fault, "--timeout", "5"]
    done = run_cli(*args, timeout=180)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and errors[0].startswith(f"ERROR: fib/{model}/n-workers/w2: {message}"), (
        done.stderr
    )
    assert done.seconds < 90
    assert not done.leftover, done.leftover


@pytest.mark.parametrize("peer", ["nobody listens", "it accepts and never speaks"])
@pytest.mark.parametrize(
    ("option", "address"),
    [("--dask-scheduler", "tcp://127.0.0.1:{port}"), ("--celery-broker", "redis://127.0.0.1:{port}/0")],
)
def test_an_unreachable_cluster_is_one_error_line_in_bounded_time(option, address, peer):
    model = "dask" if option == "--dask-scheduler" else "celery"
    need(model)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        if peer != "nobody listens":
            silent.listen(64)  # the kernel accepts the connections; nothing ever answers them
        port = silent.getsockname()[1]  # bound, not listening: connections to it are refused
        done = run_cli("run", "-w", "fib", "-m", model, option, address.format(port=port), timeout=120)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and "did not answer within" in done.stderr, done.stderr
    assert done.seconds < 60
    assert not done.leftover


@pytest.mark.parametrize(
    ("option", "address"), [("--dask-scheduler", "http://127.0.0.1:8786"), ("--celery-broker", "amqp://x")]
)
def test_a_malformed_cluster_address_is_bad_input(option, address):
    done = run_cli("run", "-w", "fib", "-m", "serial", option, address, timeout=60)
    assert done.returncode == 2
    assert (
        done.stderr.startswith("ERROR: ") and "is not" in done.stderr and len(done.stderr.splitlines()) == 1
    )


def _celery_tasks_hang(sid: int) -> bool:
    """Whether a celery worker of the lab in session *sid* says its task hangs: its log, in the lab's
    workdir, which is where the lab's redis-server runs (``--dir``)."""
    for entry in session_processes(sid):
        pid = entry.split(":")[0]
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text().strip() == "redis-server":
                logs = Path(os.readlink(f"/proc/{pid}/cwd")).glob("worker*.log")
                return any("hangs (--fault hang)" in log.read_text(errors="replace") for log in logs)
    return False


def _run_then_kill(args: list[str], victim: object, after: str) -> tuple[int, str, float, list[str]]:
    """Start the lab, kill *victim* (a Popen, or a command-line fragment of the lab's own processes) once
    its stdout says *after* and its celery workers (if any) run their tasks; return its exit code,
    stderr, seconds from the kill to its exit, and what it left running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "labs", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        for line in process.stdout:  # type: ignore[union-attr]
            if after in line:
                break
        if "celery" in args:
            wait_until(lambda: _celery_tasks_hang(process.pid))
        time.sleep(1.0)
        if isinstance(victim, subprocess.Popen):
            os.killpg(victim.pid, signal.SIGKILL)
        else:
            for entry in session_processes(process.pid):
                pid = int(entry.split(":")[0])
                with contextlib.suppress(OSError):
                    if str(victim) in Path(f"/proc/{pid}/cmdline").read_text():
                        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        _, stderr = process.communicate(timeout=120)
        seconds = time.monotonic() - killed
        leftover = session_processes(process.pid)
        for _ in range(50):  # killed workers take a moment to be reaped
            if not leftover:
                break
            time.sleep(0.1)
            leftover = session_processes(process.pid)
        return process.returncode, stderr, seconds, leftover
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def test_a_celery_broker_that_dies_mid_run_is_one_error_line():
    need("celery")
    args = [
        "run",
        "-w",
        "fib",
        "-m",
        "celery",
        "-n",
        "2",
        "--size",
        "2",
        "--fault",
        "hang",
        "--timeout",
        "100",
    ]
    code, stderr, seconds, leftover = _run_then_kill(args, "redis-server", after="tasks on Python")
    assert code == 1
    assert not leftover, leftover
    assert (
        stderr.splitlines()
        == [line for line in stderr.splitlines() if line.startswith("ERROR: fib/celery/n-workers/w2: ")]
        and len(stderr.splitlines()) == 1
    ), stderr
    assert seconds < 60


def test_a_dask_scheduler_that_dies_mid_run_is_one_error_line():
    with dask_cluster() as (address, processes):
        args = ["run", "-w", "fib", "-m", "dask", "-n", "2", "--size", "2", "--fault", "hang"]
        args += ["--timeout", "100", "--dask-scheduler", address]
        code, stderr, seconds, leftover = _run_then_kill(args, processes[0], after="dask: using the cluster")
    assert code == 1
    assert not leftover, leftover
    assert len(stderr.splitlines()) == 1 and stderr.startswith("ERROR: fib/dask/n-workers/w2: "), stderr
    assert seconds < 60


def _stored_benches(results: Path) -> dict[str, dict]:
    benches = {}
    for path in results.rglob("*.json"):
        data = json.loads(path.read_text())
        for bench in data.get("benchmarks", []):
            benches[bench["metadata"]["name"]] = bench["metadata"]
    return benches


def _untouched(processes: list[subprocess.Popen], results: Path, address: str) -> None:
    """A user's cluster outlives the lab's run, and its address is nowhere in the stored results."""
    assert all(process.poll() is None for process in processes), "the lab stopped the user's cluster"
    port = address.rsplit(":", 1)[1].split("/")[0]
    for path in results.rglob("*.json"):
        assert f"127.0.0.1:{port}" not in path.read_text(), f"{path} names the cluster's address"


def _rehearse(model: str, option: str, address: str, processes: list, results: Path) -> None:
    """The lab's matrix for fib through a cluster a user started: stored, and the cluster untouched."""
    args = ["bench", "-w", "fib", "-m", model, "-n", "2", "--quick", "--suite", "matrix", "--no-startup"]
    args += ["--no-fingerprint", "--results", str(results), option, address]
    done = run_cli(*args, timeout=600)
    _untouched(processes, results, address)
    assert done.returncode == 0, done.stderr
    stored = _stored_benches(results)
    name, fact = f"fib/{model}/n-workers/w2", "lab_dask_cluster" if model == "dask" else "lab_celery_broker"
    assert name in stored, sorted(stored)
    assert stored[name][fact] == "external"
    assert not done.leftover


def test_rehearsal_the_matrix_runs_on_an_external_dask_cluster(tmp_path):
    with dask_cluster() as (address, processes):
        _rehearse("dask", "--dask-scheduler", address, processes, tmp_path)


def test_rehearsal_the_matrix_runs_on_external_celery_workers(tmp_path):
    with celery_cluster() as (url, processes):
        _rehearse("celery", "--celery-broker", url, processes, tmp_path)


@pytest.mark.parametrize("model", ENGINES)
def test_a_task_module_the_workers_cannot_import_says_what_they_need(model):
    need(model)
    from labs import map_tasks
    from labs.core.errors import RunError

    with pytest.raises(RunError, match="install the lab and the task's module on every worker"):
        map_tasks("labs_no_such_module:run", [1, 2], model=model, workers=1, timeout=60)


def test_two_labs_benching_the_engines_at_once_leave_each_other_alone(tmp_path):
    """Two labs on one machine: each its own ports, work folders and process groups, both verified."""
    need("dask")
    need("celery")
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server (apt-get install redis-server)")
    args = ["bench", "-w", "fib", "-m", "dask,celery", "-n", "2", "--quick", "--suite", "matrix"]
    args += ["--no-startup", "--no-fingerprint"]
    labs = [
        subprocess.Popen(
            [sys.executable, "-m", "labs", *args, "--results", str(tmp_path / name)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        for name in ("a", "b")
    ]  # fmt: skip
    try:
        outputs = [lab.communicate(timeout=600) for lab in labs]
    finally:
        for lab in labs:
            if lab.poll() is None:
                os.killpg(lab.pid, signal.SIGKILL)
                lab.wait()
    for lab, (_, stderr), name in zip(labs, outputs, ("a", "b"), strict=True):
        assert lab.returncode == 0, (name, stderr)
        stored = _stored_benches(tmp_path / name)
        assert {"fib/dask/n-workers/w2", "fib/celery/n-workers/w2"} <= set(stored), (name, sorted(stored))
        deadline = time.monotonic() + 10  # killed workers take a moment to be reaped
        while session_processes(lab.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not session_processes(lab.pid), (name, session_processes(lab.pid))


@pytest.mark.parametrize("model", ENGINES)
def test_an_engine_run_leaves_nothing_in_the_temporary_folder(model, tmp_path):
    need(model)
    if model == "celery" and shutil.which("redis-server") is None:
        pytest.skip("no redis-server (apt-get install redis-server)")
    done = run_cli("run", "-w", "fib", "-m", model, "-n", "2", "--size", "4", env={"TMPDIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []
