"""One pyperf benchmark: ``python -m labs.measure.job --lab-workload W --lab-model M ... [pyperf options]``.

pyperf's manager re-runs this module in fresh worker processes. Each measuring process starts the
model (untimed), runs the job once and verifies it against the serial reference computed in that same
process, records the runtime facts (the GIL state read *after* the workload ran), and only then
lets pyperf time ``loops`` jobs. An unverified bench exits non-zero and is never stored as a success.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
from typing import Any

import pyperf

from labs import models, workloads
from labs.core import lab, proctree, runtime
from labs.core.errors import RunError, UsageError
from labs.workloads.io import local_server


def _forward(cmd: list[str], args: argparse.Namespace) -> None:
    cmd.extend(("--lab-workload", args.lab_workload, "--lab-model", args.lab_model))
    cmd.extend(("--lab-pattern", args.lab_pattern, "--lab-workers", str(args.lab_workers)))
    cmd.extend(("--lab-size", str(args.lab_size), "--lab-timeout", str(args.lab_timeout)))
    cmd.extend(("--lab-machine", args.lab_machine))
    if args.lab_startup:
        cmd.append("--lab-startup")
    if args.lab_name:
        cmd.extend(("--lab-name", args.lab_name))
    if args.lab_latency_ms is not None:
        cmd.extend(("--lab-latency-ms", args.lab_latency_ms))


def bench_name(workload: str, model: str, pattern: str, workers: int) -> str:
    return f"{workload}/{model}/{pattern}/w{workers}"


def startup_name(model: str, workers: int) -> str:
    return f"startup/{model}/w{workers}"


def runtime_metadata(machine: str) -> dict[str, Any]:
    facts = runtime.facts()
    return {
        "lab_machine": machine,
        "lab_runtime": facts["tag"],
        "lab_free_threaded_build": str(facts["free_threaded_build"]),
        "lab_gil_enabled": str(runtime.gil_enabled()),  # read now: after the workload ran
        "lab_PYTHON_GIL": facts["PYTHON_GIL"] or "unset",
        "lab_interpreters_api": facts["interpreters_api"] or "unavailable",
        "lab_usable_cpus": facts["usable_cpus"],
        "lab_python": facts["version"],
    }


def _check_affinity(workers: int, model: str) -> None:
    usable = runtime.usable_cpus()
    if model != "serial" and workers > usable:
        raise UsageError(
            f"this process may run on {usable} CPU(s) but the bench asks for {workers} workers: "
            "refusing to measure a scaling curve on pinned CPUs"
        )


def _bench_job(runner: pyperf.Runner, args: argparse.Namespace, stack: contextlib.ExitStack) -> None:
    workload = workloads.get(args.lab_workload)
    model_class = models.available(args.lab_model)
    name = args.lab_name or bench_name(workload.name, args.lab_model, args.lab_pattern, args.lab_workers)
    runner.metadata.update(
        lab_workload=workload.name,
        lab_kind=workload.kind,
        lab_model=args.lab_model,
        lab_pattern=args.lab_pattern,
        lab_workers=args.lab_workers,
        lab_tasks=args.lab_size,
        description=workload.description,
    )
    if workload.kind == "io":
        runner.metadata.update(
            zip(("lab_latency_ms", "lab_payload_bytes"), local_server.settings(), strict=True)
        )
    if not args.worker:
        runner.bench_time_func(name, lambda loops: 0.0)  # the manager only spawns workers
        return
    if workload.kind == "cpu":
        _check_affinity(args.lab_workers, args.lab_model)
    env = stack.enter_context(workload.environment())  # e.g. the HTTP server, for this process's runs
    tasks = workload.make_tasks(args.lab_size, env)
    task_func = lab.task_function(workload, args.lab_model)
    combination = lab.Combination(workload.name, args.lab_model, args.lab_pattern, args.lab_workers)
    expected = lab.serial_reference(workload, tasks)
    model = model_class(args.lab_workers)
    model.start()
    stack.callback(model.shutdown)

    def job() -> list:
        return lab.execute(model, args.lab_pattern, task_func, tasks, combination, args.lab_timeout)

    cpu_before, wall_before = proctree.cpu_seconds(), time.perf_counter()
    results = job()
    cpu, wall = proctree.cpu_seconds() - cpu_before, time.perf_counter() - wall_before
    lab.verify(combination, results, expected, workload.verified)
    runner.metadata.update(
        lab_task_example=repr(tasks[0]).replace(str(env), "<env>") if env else repr(tasks[0])
    )
    runner.metadata.update(runtime_metadata(args.lab_machine))
    runner.metadata.update({f"lab_{key}": str(value) for key, value in model.facts().items()})
    runner.metadata["lab_queue_type"] = model.queue_type
    if workload.kind == "io":
        runner.metadata.update(lab_cpu_seconds=round(cpu, 4), lab_requests_per_s=round(len(tasks) / wall, 1))
        if workload.latency is not None:
            latencies = sorted(workload.latency(result) for result in results)
            runner.metadata.update(
                lab_p50_ms=round(_percentile(latencies, 50) * 1e3, 3),
                lab_p99_ms=round(_percentile(latencies, 99) * 1e3, 3),
            )

    def time_jobs(loops: int) -> float:
        start = time.perf_counter()
        for _ in range(loops):
            job()
        return time.perf_counter() - start

    runner.bench_time_func(name, time_jobs)


def _percentile(ordered: list[float], percent: float) -> float:
    """Nearest-rank percentile of an ordered list."""
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def _bench_startup(runner: pyperf.Runner, args: argparse.Namespace) -> None:
    model_class = models.available(args.lab_model)
    runner.metadata.update(lab_model=args.lab_model, lab_workers=args.lab_workers, lab_kind="startup")
    runner.metadata["description"] = "create the model's workers, run one trivial task, shut down"
    if args.worker:
        runner.metadata.update(runtime_metadata(args.lab_machine))

    def time_startup(loops: int) -> float:
        start = time.perf_counter()
        for _ in range(loops):
            model = model_class(args.lab_workers)
            model.warm_delay = 0.0
            model.start()
            model.submit("labs.core.pool_worker:warm_up", 0.0).result()
            model.shutdown()
        return time.perf_counter() - start

    runner.bench_time_func(startup_name(args.lab_model, args.lab_workers), time_startup)


def main() -> int:
    runner = pyperf.Runner(add_cmdline_args=_forward, program_args=("-m", "labs.measure.job"))
    parser = runner.argparser
    parser.add_argument("--lab-workload", default="-")
    parser.add_argument("--lab-model", required=True)
    parser.add_argument("--lab-pattern", default="n-workers")
    parser.add_argument("--lab-workers", type=int, default=1)
    parser.add_argument("--lab-size", type=int, default=4)
    parser.add_argument("--lab-timeout", type=float, default=lab.DEFAULT_TIMEOUT)
    parser.add_argument("--lab-machine", default="unknown")
    parser.add_argument("--lab-startup", action="store_true")
    parser.add_argument("--lab-name", help="the bench's name, when not workload/model/pattern/wN")
    parser.add_argument("--lab-latency-ms", help="this bench's server latency (overrides the run's)")
    args = runner.parse_args()
    if args.lab_latency_ms is not None:
        os.environ[local_server.LATENCY_ENV] = args.lab_latency_ms
    try:
        with contextlib.ExitStack() as stack:
            if args.lab_startup:
                _bench_startup(runner, args)
            else:
                _bench_job(runner, args, stack)
    except (UsageError, RunError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
