"""python -m labs run: one combination once, verified against the serial reference, with its speedup.

Everything the user typed is checked before anything runs (bad input is one line, exit 2). A failed run
(a task raised, a worker died, a timeout, a wrong result) is a RunError; the model's ``with`` block kills
its workers on that way out, and on an interrupt too (see labs.cli.signals).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from labs import models, workloads
from labs.cli import engine_options, http_options
from labs.core import faults, limits, runtime
from labs.core.callref import resolve
from labs.core.errors import RunError, UsageError
from labs.execute import lab, patterns
from labs.models.base import Model
from labs.workloads import Workload, user

NAME = "run"
HELP = "run one combination once, verified, with its speedup vs serial"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-w",
        "--workload",
        required=True,
        help=f"one of: {', '.join(workloads.NAMES)}; or yours: pkg.module:function (with --tasks) or file.py",
    )
    parser.add_argument(
        "--tasks", help="with -w pkg.module:function: pkg.module:make_tasks, called with --size"
    )
    parser.add_argument("--check", help="with -w pkg.module:function: pkg.module:check(tasks, results)")
    parser.add_argument("-m", "--model", required=True, help=f"one of: {', '.join(models.names())}")
    parser.add_argument("-p", "--pattern", default="n-workers", help=f"one of: {', '.join(patterns.NAMES)}")
    parser.add_argument("-n", "--workers", default="2", help="worker count, 1..1024 (default 2)")
    parser.add_argument(
        "--size", help="number of tasks (default: the workload's default size; at most what memory allows)"
    )
    parser.add_argument(
        "--timeout",
        default=str(int(limits.DEFAULT_TIMEOUT)),
        help=(
            f"seconds before a run is ended, 1..{int(limits.MAX_TIMEOUT)} "
            f"(default {int(limits.DEFAULT_TIMEOUT)})"
        ),
    )
    parser.add_argument(
        "--fault", choices=faults.KINDS, help="inject a fault (tests the lab's fault handling)"
    )
    parser.add_argument(
        "--latency-ms", help="I/O workloads: the server's latency per request (0..10000, default 50)"
    )
    parser.add_argument("--payload", help="I/O workloads: bytes per page (1..16 MiB, default 16384)")
    engine_options.add(parser)


@dataclass(frozen=True)
class _Request:
    """What the user asked for, every part of it checked."""

    workload: Workload
    model: type[Model]
    combination: lab.Combination
    size: int
    timeout: float
    fault: str | None


def _checked(args: argparse.Namespace) -> _Request:
    engine_options.apply(args)  # first: whether celery can run depends on the broker given
    workload = user.workload(args.workload, args.tasks, args.check)
    model_class = models.available(args.model)
    pattern = patterns.check_name(args.pattern)
    workers = limits.check_workers(limits.parse_int("workers", args.workers))
    size = workload.sizes["rigorous"] if args.size is None else limits.parse_positive_int("size", args.size)
    lab.check_size(workload, size)
    timeout = limits.check_timeout(limits.parse_positive_int("timeout", args.timeout))
    if args.fault == "kill" and model_class.in_process:
        raise UsageError(
            f"--fault kill needs a model whose workers are processes; {args.model!r} runs inside the lab"
        )
    http_options.apply(args)
    combination = lab.Combination(workload.name, args.model, pattern, workers)
    return _Request(workload, model_class, combination, size, timeout, args.fault)


def execute(args: argparse.Namespace) -> int:
    request = _checked(args)
    facts = runtime.facts()
    gil = "GIL on" if facts["gil_enabled"] else "GIL off"
    print(
        f"{request.combination}: {request.size} tasks on Python {facts['version']} ({facts['tag']}, {gil})",
        flush=True,
    )
    workload, combination = request.workload, request.combination
    with workload.environment() as env:
        tasks = workload.make_tasks(request.size, env)
        user.check_sendable(combination.model, tasks)
        if request.fault:
            task_func, serial_time, expected = faults.FUNCTIONS[request.fault], None, None
        else:
            task_func = lab.task_function(workload, combination.model)
            serial_time, expected = _serial_baseline(workload, tasks)
        with lab.started(request.model, combination) as model:

            def job() -> list[Any]:
                return lab.execute(model, combination.pattern, task_func, tasks, combination, request.timeout)

            job()  # warm-up
            model_time, results = lab.timed(job)
    if request.fault:
        raise RunError(f"{combination}: the injected fault {request.fault!r} did not fail the run")
    lab.verify(combination, results, expected, workload.verified)
    print(f"  {combination.model:<22}{model_time:9.4f} s")
    print(f"  {'speedup':<22}{serial_time / model_time:9.2f}x vs serial")
    print(f"  {'verified':<22}{len(results)} results equal the serial reference")
    return 0


def _serial_baseline(workload: Workload, tasks: list[Any]) -> tuple[float, list[Any]]:
    """The serial time of *tasks* in this thread (after a warm-up run), and the verified reference."""
    expected = lab.serial_reference(workload, tasks)
    run_serially = resolve(workload.task)
    [run_serially(task) for task in tasks]  # warm-up: imports, caches, connections
    serial_time, serial_results = lab.timed(lambda: [run_serially(task) for task in tasks])
    serial = lab.Combination(workload.name, "serial", "n-workers", 1)
    lab.verify(serial, serial_results, expected, workload.verified)
    print(f"  {'serial':<22}{serial_time:9.4f} s", flush=True)
    return serial_time, expected
