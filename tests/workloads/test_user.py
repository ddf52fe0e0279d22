"""A user's own workload: by import path, by file, by entry point; every way it can be unusable is one
line; and `labs tune` answers for it with a model, a worker count and a fit."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest
from labtest import run_cli

from labs.core.errors import UsageError
from labs.workloads import user

WORK = """
import time


def spin(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def crunch(task):
    return spin(task)


def make_tasks(size):
    return [20_000] * size


def run(task):
    return spin(task)


def lists(size):
    return [[i] for i in range(size)]


def total(task):
    return sum(task)


def check(tasks, results):
    return None if len(results) == len(tasks) else "a result is missing"
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    (tmp_path / "tinywork.py").write_text(textwrap.dedent(WORK))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("tinywork", None)


def test_a_function_by_import_path_is_a_workload(home):
    found = user.workload("tinywork:crunch", "tinywork:make_tasks", "tinywork:check")
    assert found.task == "tinywork:crunch" and found.make_tasks(3) == [20_000] * 3
    assert found.check([1], [2]) is None and "source sha256" in found.origin
    assert str(home) not in found.origin and str(home) not in found.description


def test_a_workload_file_is_a_workload(home):
    found = user.workload(str(home / "tinywork.py"))
    assert found.name == "tinywork" and found.task == "tinywork:run" and found.kind == "cpu"


def test_an_installed_package_registers_a_workload_by_entry_point(home, monkeypatch):
    monkeypatch.setattr(user, "_registered", lambda: {"tiny": "tinywork"})
    assert user.workload("tiny").task == "tinywork:run"


@pytest.mark.parametrize(
    ("spec", "tasks", "message"),
    [
        ("tinywork:crunch", None, "needs --tasks pkg.module:make_tasks"),
        ("__main__:crunch", "tinywork:make_tasks", "lives in __main__"),
        ("tinywork:nope", "tinywork:make_tasks", "module 'tinywork' has no 'nope'"),
        ("no_such_module:f", "tinywork:make_tasks", "ModuleNotFoundError"),
        ("missing.py", None, "no workload file 'missing.py'"),
        ("frob", None, "unknown workload 'frob'"),
    ],
)
def test_an_unusable_workload_is_one_clear_error(home, spec, tasks, message):
    with pytest.raises(UsageError, match=message):
        user.workload(spec, tasks)


def test_tasks_a_model_cannot_send_are_refused_naming_the_model():
    with pytest.raises(
        UsageError, match=r"type list cannot be sent to a subinterpreter \(interpreters-pool\)"
    ):
        user.check_sendable("interpreters-pool", [[1]])
    with pytest.raises(UsageError, match=r"cannot be sent to a worker process \(processes-spawn\)"):
        user.check_sendable("processes-spawn", [lambda: 1])
    user.check_sendable("threads", [[1], lambda: 1])  # threads share the objects


def test_tune_answers_for_a_users_function_with_a_model_a_count_and_a_fit(home):
    done = run_cli(
        "tune", "tinywork:crunch", "--tasks", "tinywork:make_tasks", "--size", "8",
        "-m", "threads,processes-fork", "--budget", "0.5", "--json",
        env={"PYTHONPATH": str(home)}, cwd=home, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["workload"] == "tinywork:crunch" and found["cpus"] >= 1
    assert [m["model"] for m in found["models"]] == ["threads", "processes-fork"]
    for model in found["models"]:
        assert model["best_workers"] >= 1 and model["recommended_workers"] <= model["best_workers"]
        low, high = model["ci"]
        assert low <= model["speedup"] <= high
    assert found["decision"]["model"] in ("threads", "processes-fork")
    assert "processes-fork w1,2" in done.stderr  # the progress, on stderr with --json
    assert not done.leftover


def test_tune_takes_a_workload_file_and_refuses_main_and_unsendable_tasks(home):
    done = run_cli("tune", "-w", "tinywork.py", "-m", "threads", "--size", "4", "--budget", "0.2", cwd=home)
    assert done.returncode == 0, done.stderr
    assert "decision: threads at" in done.stdout
    refused = run_cli("tune", "__main__:f", "--tasks", "tinywork:make_tasks", cwd=home)
    assert (
        refused.returncode == 2 and refused.stderr.count("\n") == 1 and "lives in __main__" in refused.stderr
    )
    unsendable = run_cli(
        "tune", "tinywork:total", "--tasks", "tinywork:lists", "-m", "processes-fork,interpreters-raw",
        "--budget", "0.2", env={"PYTHONPATH": str(home)}, cwd=home,
    )  # fmt: skip
    assert unsendable.returncode == 2 and unsendable.stderr.count("\n") == 1, unsendable.stderr
    assert "type list cannot be sent to a subinterpreter (interpreters-raw)" in unsendable.stderr
    raising = run_cli(
        "tune", "tinywork:spin", "--tasks", "tinywork:lists", env={"PYTHONPATH": str(home)}, cwd=home
    )
    assert raising.returncode == 1 and raising.stderr.count("\n") == 1, raising.stderr
    assert "a task raised in the serial run: TypeError" in raising.stderr


def test_a_tie_is_broken_by_the_memory_a_worker_adds_and_every_member_is_named():
    from labs.measure.tune import ModelResult, decide

    threads = ModelResult("threads", {1: [1.0, 1.01, 0.99], 8: [7.1, 7.2, 7.15]}, best=8)
    processes = ModelResult("processes-fork", {1: [1.0, 1.0, 1.0], 8: [7.25, 7.3, 7.2]}, best=8)
    unweighed = decide([processes, threads])  # no second measurement: the tie is said, not broken
    assert unweighed["model"] == "processes-fork" and unweighed["tie_break"] is None
    assert unweighed["ties"] == [{"model": "threads", "workers": 8}]
    threads.memory, processes.memory = {8: 0.1}, {8: 9.5}
    decision = decide([processes, threads])
    assert decision["model"] == "threads" and decision["workers"] == 8
    assert decision["ties"] == [{"model": "processes-fork", "workers": 8}]
    assert decision["tie_break"] == "the least memory a worker adds: processes-fork 9.5 MiB, threads 0.1 MiB"
    faster = ModelResult("processes-fork", {1: [1.0, 1.0, 1.0], 8: [9.0, 9.1, 8.9]}, best=8)
    assert decide([faster, threads])["model"] == "processes-fork" and decide([faster, threads])["ties"] == []


def test_the_recommended_count_is_the_smallest_that_ties_with_the_best():
    from labs.measure.tune import ModelResult

    curve = ModelResult("threads", {1: [1.0, 1.0], 2: [1.9, 2.0], 4: [3.9, 4.0], 8: [3.95, 4.05]}, best=8)
    assert curve.recommended == 4


def test_a_sweep_doubles_only_on_a_rise_beyond_the_equivalence_margin():
    """Throughput rounds of w2 and w4: 1% faster in every round is significant, yet a tie (±3%): the
    sweep stops there rather than chase a host's noise; 10% faster is a rise."""
    from labs.measure.tune import rises

    before = [100.0, 101.0, 99.5, 100.5, 100.2, 99.8]
    assert not rises(before, [v * 1.01 for v in before])
    assert rises(before, [v * 1.10 for v in before])
    assert not rises(before, [v * 0.90 for v in before])


def test_tune_starts_an_io_workloads_server_once_and_fits_its_curve_with_intervals(home):
    """download needs its HTTP server: tune starts it for the whole tune (it refused before), and a
    curve of three counts or more gets the USL fit with the bootstrap's intervals."""
    done = run_cli(
        "tune", "download", "-m", "threads", "--size", "8", "--budget", "0.7", "--json",
        env={"LABS_HTTP_LATENCY_MS": "20"}, cwd=home, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (threads,) = json.loads(done.stdout)["models"]
    assert threads["best_workers"] >= 4, threads
    fit = threads["usl"]
    assert fit is not None and set(fit["ci"]) == {"sigma", "kappa", "n_star"}, fit
    assert fit["ci"]["sigma"][0] <= fit["sigma"] <= fit["ci"]["sigma"][1]
    assert not done.leftover
