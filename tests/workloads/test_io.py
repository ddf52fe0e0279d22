"""The I/O lab on a real HTTP server on loopback: every I/O workload under every model, verified, and
each fault: port taken, server that does not start, server dying mid-run, request timeout, truncated
response, latency or payload out of range."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from labtest import lab_command

from labs import models, workloads
from labs.core.errors import RunError, UsageError
from labs.execute import lab, patterns
from labs.workloads.io import local_server
from labs.workloads.io.local_server import LocalServer

ROOT = Path(__file__).resolve().parents[2]
IO_WORKLOADS = workloads.all_workloads("io")


@pytest.fixture(scope="module", autouse=True)
def fast_server():
    """5 ms per request and 4 KiB pages keep the I/O tests short; the code paths are the same."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(local_server.LATENCY_ENV, "5")
        patch.setenv(local_server.PAYLOAD_ENV, "4096")
        yield


@pytest.fixture(scope="module")
def environments():
    with contextlib.ExitStack() as stack:
        yield {w.name: (w, stack.enter_context(w.environment())) for w in IO_WORKLOADS}


def test_the_server_serves_pages_and_counts_them():
    with LocalServer(latency_ms=0, payload=1000) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for page in range(5):
            connection.request("GET", f"/page/{page}")
            response = connection.getresponse()
            assert response.status == 200 and len(response.read()) == 1000
        connection.request("GET", "/nope")
        assert connection.getresponse().status == 404
        connection.close()
        assert server.served() == 5
    assert not server.alive()


@pytest.fixture(scope="module", params=[(m, n) for m in models.names() for n in (1, 2)], ids=str)
def running_model(request):
    name, workers = request.param
    why = models.get(name).unavailable_reason()
    if why:
        pytest.skip(f"{name} unavailable on this runtime: {why}")
    with models.get(name)(workers) as model:
        yield model


@pytest.mark.parametrize("pattern", patterns.NAMES)
def test_every_io_workload_verifies(running_model, pattern, environments):
    for workload, env in environments.values():
        tasks = workload.make_tasks(3, env)
        expected = lab.serial_reference(workload, tasks)
        combination = lab.Combination(workload.name, running_model.name, pattern, running_model.workers)
        task_func = lab.task_function(workload, running_model.name)
        results = lab.execute(running_model, pattern, task_func, tasks, combination, timeout=60)
        lab.verify(combination, results, expected, workload.verified)


def test_the_asyncio_model_runs_the_coroutine_client(environments):
    download = workloads.get("download")
    assert lab.task_function(download, "asyncio") == "labs.workloads.download:run_async"
    assert lab.task_function(download, "threads") == "labs.workloads.download:run"


def _download(model: str, url: str, pattern: str = "n-workers", timeout: float = 30) -> list:
    download = workloads.get("download")
    tasks = download.make_tasks(4, url)
    with models.get(model)(2) as running:
        return lab.execute(
            running,
            pattern,
            lab.task_function(download, model),
            tasks,
            lab.Combination("download", model, pattern, 2),
            timeout,
        )


def test_a_port_already_taken_is_one_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = LocalServer(port=port)
        with pytest.raises(
            RunError,
            match=rf"the HTTP server failed to start: cannot listen on 127.0.0.1:{port}: "
            "Address already in use",
        ):
            server.start()
        assert not server.alive()


def test_a_server_that_does_not_start_leaves_nothing_running(tmp_path):
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'no such module: labs.workloads.io.server' >&2\nexit 1\n")
    broken.chmod(0o755)
    server = LocalServer(python=str(broken))
    with pytest.raises(
        RunError, match=r"the HTTP server failed to start: no such module: labs\.workloads\.io\.server"
    ):
        server.start()
    assert not server.alive()


@pytest.mark.parametrize("model", ["threads", "asyncio"])
def test_a_server_dying_mid_run_fails_that_run(model):
    with LocalServer() as server:
        _download(model, server.url)  # connections are open and kept alive
        server.process.kill()
        server.process.wait()
        with pytest.raises(RunError, match=rf"download/{model}/n-workers/w2: a task failed: "):
            _download(model, server.url)


@pytest.mark.parametrize("model", ["threads", "asyncio"])
def test_a_request_timeout_is_an_error_not_a_hang(model, monkeypatch):
    monkeypatch.setenv(local_server.TIMEOUT_ENV, "0.3")
    with LocalServer(latency_ms=3000) as server:
        with pytest.raises(RunError, match=rf"download/{model}/n-workers/w2: a task failed: .*Timeout"):
            _download(model, server.url)


@pytest.mark.parametrize("model", ["threads", "asyncio"])
def test_a_truncated_response_is_caught(model):
    with LocalServer(truncate=True) as server:
        with pytest.raises(RunError, match=r"a task failed: TruncatedResponse: GET /page/\d+: "):
            _download(model, server.url)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--latency-ms", "20000", "latency 20000 ms is out of range: 0 .. 10000 ms"),
        ("--latency-ms", "-1", "latency -1 ms is out of range"),
        ("--payload", "0", "payload 0 bytes is out of range: 1 .. 16777216 bytes"),
        ("--payload", "lots", "payload must be an integer, got 'lots'"),
    ],
)
def test_latency_or_payload_out_of_range(option, value, message):
    done = lab_command("run", "-w", "download", "-m", "threads", option, value, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ERROR: {message}"), done.stderr


def test_settings_are_checked_before_a_server_starts():
    with pytest.raises(UsageError, match="latency 10001 ms is out of range"):
        LocalServer(latency_ms=10001)
    with pytest.raises(UsageError, match="payload 16777217 bytes is out of range"):
        LocalServer(payload=(16 << 20) + 1)


def test_io_bench_records_throughput_latency_and_server_capacity(tmp_path):
    done = lab_command(
        "bench",
        "--no-fingerprint",
        "--quick",
        "--suite",
        "matrix",
        "-w",
        "download",
        "-m",
        "threads,asyncio",
        "--no-startup",
        "--results",
        str(tmp_path),
        timeout=300,
        env={local_server.LATENCY_ENV: "5"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = sorted(tmp_path.glob("*/*/*.json"))
    data = json.loads(path.read_text())
    names = {b["metadata"]["name"]: b["metadata"] for b in data["benchmarks"]}
    assert {
        "download/serial/n-workers/w1",
        "download/threads/n-workers/w64",
        "download/asyncio/n-workers/w64",
        "capacity/asyncio/n-workers/w64",
    } <= set(names)
    threads = names["download/threads/n-workers/w64"]
    assert threads["lab_tasks"] == 64 and threads["lab_latency_ms"] == 5
    runs = [
        r.get("metadata", {})
        for b in data["benchmarks"]
        if b["metadata"]["name"] == "download/threads/n-workers/w64"
        for r in b["runs"]
    ]
    p99 = [m.get("lab_p99_ms", threads.get("lab_p99_ms")) for m in runs]
    assert all(value is not None and value >= 5 for value in p99)
    assert names["capacity/asyncio/n-workers/w64"]["lab_latency_ms"] == 0


def test_a_server_never_outlives_the_process_that_started_it():
    code = (
        "from labs.workloads.io.local_server import LocalServer; server = LocalServer(); server.start(); "
        "print(server.process.pid, flush=True); import time; time.sleep(60)"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True
    )
    server_pid = int(parent.stdout.readline())
    os.kill(parent.pid, 9)  # no clean-up code runs in the parent
    parent.wait()
    parent.stdout.close()
    for _ in range(50):
        try:
            state = Path(f"/proc/{server_pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            break
        if state == "Z":
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the server {server_pid} outlived its parent")
