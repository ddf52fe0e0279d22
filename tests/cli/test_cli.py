"""The CLI, for real in a subprocess: output, bad input (one line, exit 2), faults (clear error, no hang,
nothing left running)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest
from labtest import ROOT

from labs import models
from labs.cli import main as cli
from labs.core import interpreters_api


def available(name: str) -> bool:
    return models.get(name).unavailable_reason() is None


def test_list_shows_every_model_and_whether_it_runs_here(cli):
    done = cli("list")
    assert done.returncode == 0, done.stderr
    for name in models.names():
        assert name in done.stdout
    assert "nbody" in done.stdout and "pipeline" in done.stdout


@pytest.mark.interpreter  # the facts are the runtime's
def test_doctor_json(cli):
    done = cli("doctor", "--json")
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)  # the progress is on stderr only, a line per step as it starts
    assert "doctor: speed fingerprint" in done.stderr
    assert all(line.startswith("doctor: ") for line in done.stderr.splitlines()), done.stderr
    assert {"free_threaded_build", "gil_enabled", "interpreters_api", "usable_cpus"} <= facts[
        "runtime"
    ].keys()
    # the machine: its static facts and id, its speed fingerprint, and advice on steadier timings
    assert facts["machine"]["static_id"] and facts["machine"]["kernel"]
    assert set(facts["fingerprint"]["seconds"]) == {"integer", "float", "memory", "syscall"}
    assert all(0 < seconds < 30 for seconds in facts["fingerprint"]["seconds"].values())
    assert {row["what"] for row in facts["steadiness"]} >= {
        "isolated CPUs",
        "governor",
        "SMT",
        "load average",
    }


@pytest.mark.parametrize("model", ["threads", "processes-fork", "interpreters-pool"])
def test_run_prints_time_speedup_and_verified(cli, model):
    if not available(model):
        pytest.skip(f"{model} unavailable: {models.get(model).unavailable_reason()}")
    done = cli("run", "-w", "nbody", "-m", model, "-n", "2", "--size", "2")
    assert done.returncode == 0, done.stderr
    assert f"nbody/{model}/n-workers/w2" in done.stdout
    assert "speedup" in done.stdout and "2 results equal the serial reference" in done.stdout
    assert not done.leftover


BAD_INPUTS = [
    (["run", "-w", "nope", "-m", "threads"], "unknown workload 'nope'; valid: nbody, fib"),
    (["run", "-w", "fib", "-m", "nope"], "unknown model 'nope'; valid: serial, threads"),
    (
        ["run", "-w", "fib", "-m", "threads", "-p", "nope"],
        "unknown pattern 'nope'; valid: n-workers, pipeline",
    ),
    (["run", "-w", "fib", "-m", "threads", "-n", "0"], "workers must be between 1 and 1024, got 0"),
    (["run", "-w", "fib", "-m", "threads", "-n", "1025"], "workers must be between 1 and 1024, got 1025"),
    (["run", "-w", "fib", "-m", "threads", "-n", "two"], "workers must be an integer, got 'two'"),
    (["run", "-w", "fib", "-m", "threads", "-n", "\u0663"], "workers must be an integer, got '\u0663'"),
    (["run", "-w", "fib", "-m", "threads", "-n", "1_0"], "workers must be an integer, got '1_0'"),
    (["run", "-w", "fib", "-m", "threads", "--dask-scheduler", "tcp://127.0.0.1:1"], "is for model dask"),
    (["bench", "-m", "threads", "--celery-broker", "redis://127.0.0.1:1/0"], "is for model celery"),
    (["bench", "--results", "", "--dry-run"], "--results needs a folder name, got ''"),
    (["report", "--results", " "], "--results needs a folder name, got ''"),
    (["bench", "--kind", "io", "-w", "fib", "--dry-run"], "--kind io leaves none of the workloads given"),
    (["race", "--increments", "1" + "0" * 30], "increments must be a positive integer of at most 100,000,0"),
    (["run", "-w", "fib", "-m", "threads", "--size", "0"], "size must be a positive integer, got '0'"),
    (["run", "-w", "fib", "-m", "threads", "--size", "x"], "size must be a positive integer, got 'x'"),
    (["run", "-w", "fib", "-m", "threads", "--fault", "kill"], "--fault kill needs a model whose workers"),
    (
        ["run", "-w", "fib", "-m", "serial", "--timeout", "9300000000"],
        "timeout must be between 1 and 86400 seconds, got 9300000000",
    ),
    (
        ["run", "-w", "fib", "-m", "interpreters-raw", "-p", "pipeline", "--timeout", "9300000000"],
        "timeout must be between 1 and 86400 seconds, got 9300000000",
    ),
    (["run", "-w", "fib", "-m", "threads", "--timeout", "0"], "timeout must be a positive integer, got '0'"),
    (
        ["run", "-w", "fib", "-m", "threads", "--size", "1000000000"],
        "size 1000000000 is too large for fib: at most",
    ),
    (["compare", "3.12", "3.13", "--threshold", "abc"], "threshold must be a fraction in [0, 1), got 'abc'"),
    (["compare", "3.12", "3.13", "--threshold", "nan"], "threshold must be a fraction in [0, 1), got 'nan'"),
    (["run", "-m", "threads"], "the following arguments are required: -w/--workload"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize(
    ("args", "message"), BAD_INPUTS, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, message):
    done = cli(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: ") and message in lines[0], done.stderr


def test_an_unavailable_model_says_why(monkeypatch, capsys):
    # A fake source makes the answer exact on any runtime; the real check is in interpreters_api.source().
    monkeypatch.setattr(
        interpreters_api, "source", lambda: (None, "needs Python 3.12+ and interpreters-pep-734")
    )
    assert cli.main(["run", "-w", "fib", "-m", "interpreters-pool"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "ERROR: model 'interpreters-pool' is unavailable on this runtime: "
        "interpreters: needs Python 3.12+ and interpreters-pep-734"
    )


FAULT_MODELS = [
    "serial",
    "threads",
    "asyncio",
    "processes-fork",
    "processes-spawn",
    "interpreters-pool",
    "interpreters-raw",
]


@pytest.mark.parametrize("model", FAULT_MODELS)
@pytest.mark.parametrize("pattern", ["n-workers", "pipeline"])
def test_a_task_that_raises_fails_the_run_with_its_exception(cli, model, pattern):
    if not available(model):
        pytest.skip(f"{model} unavailable: {models.get(model).unavailable_reason()}")
    done = cli("run", "-w", "fib", "-m", model, "-p", pattern, "--size", "2", "--fault", "raise", timeout=60)
    assert done.returncode == 1
    assert f"ERROR: fib/{model}/{pattern}/w2: a task failed:" in done.stderr
    assert re.search(r"InjectedFault: injected fault on task 2[45]\n", done.stderr), done.stderr
    assert not done.leftover


@pytest.mark.parametrize("model", ["processes-fork", "processes-spawn", "processes-forkserver"])
@pytest.mark.parametrize("pattern", ["n-workers", "pipeline", "broadcast"])
def test_a_killed_worker_process_is_a_clear_error(cli, model, pattern):
    if not available(model):
        pytest.skip(f"{model} unavailable: {models.get(model).unavailable_reason()}")
    done = cli("run", "-w", "fib", "-m", model, "-p", pattern, "--size", "2", "--fault", "kill", timeout=60)
    assert done.returncode == 1
    assert f"ERROR: fib/{model}/{pattern}/w2: a worker died: BrokenProcessPool" in done.stderr
    assert not done.leftover


@pytest.mark.parametrize(
    ("model", "pattern"),
    [
        ("serial", "n-workers"),  # the task runs in the lab's own thread: only a timer can stop it
        ("serial", "pipeline"),
        ("threads", "pipeline"),
        ("asyncio", "pipeline"),
        ("processes-fork", "pipeline"),
        ("interpreters-pool", "pipeline"),
        ("interpreters-raw", "pipeline"),
    ],
)
def test_a_hung_task_ends_at_the_timeout_with_nothing_left_running(cli, model, pattern):
    if not available(model):
        pytest.skip(f"{model} unavailable: {models.get(model).unavailable_reason()}")
    args = ["-w", "fib", "-m", model, "-p", pattern, "--size", "2", "--fault", "hang", "--timeout", "1"]
    done = cli("run", *args, timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"ERROR: fib/{model}/{pattern}/w2: no result before the run's timeout"
    ]
    assert done.seconds < 30
    assert not done.leftover


def test_a_failed_spawn_run_says_one_line_without_a_resource_tracker_warning(cli):
    # The failed run leaves with os._exit (a hung thread must not hold it): multiprocessing's named
    # semaphores are released first, or the resource tracker warns about leaked ones on stderr.
    done = cli("run", "-w", "fib", "-m", "processes-spawn", "--size", "2", "--fault", "raise", timeout=60)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and "InjectedFault" in done.stderr, done.stderr
    assert not done.leftover


def test_help_states_the_exit_codes(cli):
    done = cli("--help")
    assert done.returncode == 0
    assert "130 interrupted" in done.stdout and "143, 129" in done.stdout


def test_a_reader_that_goes_away_ends_the_command_quietly_with_sigpipes_code():
    process = subprocess.Popen(
        [sys.executable, "-m", "labs", "list"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    process.stdout.close()  # like `labs list | head -0`: nobody reads
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGPIPE
    assert stderr == ""


@pytest.mark.parametrize(
    ("shell", "message", "code"),
    [
        ("{lab} list > /dev/full", "ERROR: cannot write the output: No space left on device", 1),
        ("{lab} list >&-", "ERROR: standard output is closed;", 2),
        ("mkdir gone && cd gone && rmdir ../gone && {lab} list", "ERROR: the working folder no longer", 2),
        (
            "mkdir gone && cd gone && rmdir ../gone && {lab} run -w fib -m processes-spawn",
            "ERROR: the work",
            2,
        ),
    ],
    ids=["stdout-full", "stdout-closed", "cwd-deleted", "cwd-deleted-spawn"],
)
def test_a_broken_output_or_working_folder_is_one_error_line(tmp_path, shell, message, code):
    lab = f"PYTHONPATH={ROOT} {sys.executable} -m labs"
    done = subprocess.run(
        ["sh", "-c", shell.format(lab=lab)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == code, done.stderr
    assert done.stderr.splitlines() == [done.stderr.strip()] and done.stderr.startswith(message), done.stderr


def test_a_bad_session_id_is_one_error_line_and_nothing_written(tmp_path):
    """LABS_SESSION (set by nox -s bench for all its runtimes) is written into every run: a value that
    is no id is refused before anything is measured or written."""
    bench = ["bench", "--quick", "-w", "fib", "-m", "threads", "-n", "2", "--suite", "matrix"]
    done = subprocess.run(
        [sys.executable, "-m", "labs", *bench, "--no-fingerprint", "--results", str(tmp_path / "results")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "LABS_SESSION": "../../etc"},
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line == (
        "ERROR: LABS_SESSION='../../etc' is not a session id; "
        "valid: 1 to 64 letters, digits, '.', '_', ':' or '-'"
    )
    assert not (tmp_path / "results").exists()
