"""The matrix job as a pyperf benchmark: ``python -m labs.measure.job --lab-key KEY ... [pyperf options]``.

pyperf's manager re-runs this module in fresh worker processes. Each measuring process starts the
model (untimed), runs the job once and verifies it against the serial reference computed in that same
process, records the runtime facts (the GIL state read *after* the workload ran), and only then
lets pyperf time ``loops`` jobs. An unverified bench exits non-zero and is never stored as a success.
The ``startup`` suite times creating the model's workers, one trivial task and the shut-down.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from labs import models, workloads
from labs.core import limits, proctree, runtime
from labs.execute import lab
from labs.measure.harness import Harness, Option, loop_timer
from labs.store import schema
from labs.workloads.io import local_server

OPTIONS = (
    Option("size", int, 4, "tasks per job"),
    Option("timeout", float, limits.DEFAULT_TIMEOUT, "seconds one job may take"),
    Option("latency-ms", str, None, "this bench's server latency (overrides the run's)"),
    Option("paired-out", str, None, "time the serial baseline in this process too; its values go here"),
)


def _percentile(ordered: list[float], percent: float) -> float:
    """Nearest-rank percentile of an ordered list."""
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def _io_metadata(workload: workloads.Workload, results: list, tasks: list, cpu: float, wall: float) -> dict:
    """Requests/s, CPU per job and latency percentiles of the verifying job (I/O workloads only), by
    their names in labs.store.schema."""
    metadata: dict[str, object] = {
        "cpu_seconds": round(cpu, 4),
        "requests_per_s": round(len(tasks) / wall, 1),
    }
    if workload.latency is not None:
        latencies = sorted(workload.latency(result) for result in results)
        metadata["p50_ms"] = round(_percentile(latencies, 50) * 1e3, 3)
        metadata["p99_ms"] = round(_percentile(latencies, 99) * 1e3, 3)
    return metadata


def bench_job(harness: Harness, stack: contextlib.ExitStack) -> None:
    key, args = harness.key, harness.args
    workload = workloads.get(key.workload)
    model_class = models.available(key.model)
    harness.describe(
        workload.description,
        workload=workload.name,
        kind=workload.kind,
        model=key.model,
        pattern=key.pattern,
        workers=key.workers,
        tasks=args.lab_size,
    )
    harness.record(**workload.variant())
    if workload.kind == schema.Kind.IO:
        latency_ms, payload_bytes = local_server.settings()
        harness.record(latency_ms=latency_ms, payload_bytes=payload_bytes)
    if not harness.worker:
        return harness.bench(loop_timer(lambda: None))
    if workload.kind == "cpu" and key.model != "serial":
        limits.check_cpu_workers(key.workers, runtime.usable_cpus())
    env = stack.enter_context(workload.environment())  # e.g. the HTTP server, for this process's runs
    tasks = workload.make_tasks(args.lab_size, env)
    task_func = lab.task_function(workload, key.model)
    combination = lab.Combination(workload.name, key.model, key.pattern, key.workers)
    expected = lab.serial_reference(workload, tasks)
    # As a context: a start that fails half-way (a cluster's redis up, its workers not) is cleaned up,
    # and a failed or timed-out job abandons the workers instead of waiting for a hung one.
    model = stack.enter_context(model_class(key.workers))

    def job() -> list:
        return lab.execute(model, key.pattern, task_func, tasks, combination, args.lab_timeout)

    cpu_before, wall_before = proctree.cpu_seconds(), time.perf_counter()
    results = job()
    cpu, wall = proctree.cpu_seconds() - cpu_before, time.perf_counter() - wall_before
    lab.verify(combination, results, expected, workload.verified)
    example = repr(tasks[0]).replace(str(env), "<env>") if env else repr(tasks[0])
    extra: dict[str, object] = {name: str(value) for name, value in model.facts().items()}
    # which metadata describes the model, so that a baseline timed beside it can leave those out
    extra["model_keys"] = ",".join(schema.stored(name) for name in ("queue_type", "paired_with", *extra))
    if workload.kind == schema.Kind.IO:
        extra.update(_io_metadata(workload, results, tasks, cpu, wall))
    if args.lab_paired_out is None:
        return harness.bench(loop_timer(job), task_example=example, queue_type=model.queue_type, **extra)
    serial_job = _serial_job(workload, tasks, expected, args.lab_timeout, stack)
    paired = PairedTimer(job, serial_job, harness.args.warmups or 0)
    extra["paired_with"] = key.paired_baseline().to_json()
    # not calibrated: a probe call would count as a warm-up of the baseline; matrix jobs last >= 1 ms
    harness.bench(paired, calibrate=False, task_example=example, queue_type=model.queue_type, **extra)
    paired.save(Path(args.lab_paired_out))


def _serial_job(
    workload: workloads.Workload, tasks: list, expected: list, timeout: float, stack: contextlib.ExitStack
) -> Callable[[], list]:
    """The serial baseline's job on the same tasks, verified once like every job."""
    serial = models.get("serial")(1)
    serial.start()
    stack.callback(serial.shutdown)
    task_func = lab.task_function(workload, "serial")
    combination = lab.Combination(workload.name, "serial", "n-workers", 1)

    def job() -> list:
        return lab.execute(serial, "n-workers", task_func, tasks, combination, timeout)

    lab.verify(combination, job(), expected, workload.verified)
    return job


class PairedTimer:
    """pyperf's time function for a bench and its serial baseline, timed in the same process.

    Each call times ``loops`` jobs of both, alternating which goes first from one value to the next,
    so drift within the process and co-tenant noise hit both sides alike. pyperf's worker calls this
    ``warmups`` times and then once per value; the alternation counts values only, and which side
    opens depends on the process (its pid's parity), so an odd number of values per process does not
    favour one side across the bench. pyperf stores the bench's times; the baseline's go to a file the
    driver turns into their own pyperf benchmark, run for run beside the bench's.
    """

    def __init__(self, job: Callable[[], object], baseline: Callable[[], object], warmups: int) -> None:
        self.job, self.baseline, self.warmups = job, baseline, warmups
        self.baseline_seconds: list[tuple[int, float]] = []  # (loops, seconds per loop) per call
        self.opening = os.getpid() % 2

    def __call__(self, loops: int) -> float:
        timed_job, timed_baseline = loop_timer(self.job), loop_timer(self.baseline)
        value_index = max(0, len(self.baseline_seconds) - self.warmups)
        if (value_index + self.opening) % 2 == 0:
            baseline = timed_baseline(loops)
            seconds = timed_job(loops)
        else:
            seconds = timed_job(loops)
            baseline = timed_baseline(loops)
        self.baseline_seconds.append((loops, baseline / loops))
        return seconds

    def save(self, path: Path) -> None:
        """The baseline's warm-ups and values, as pyperf would store them, for the driver."""
        warm, timed = self.baseline_seconds[: self.warmups], self.baseline_seconds[self.warmups :]
        path.write_text(json.dumps({"warmups": warm, "values": [value for _, value in timed]}))


def bench_startup(harness: Harness, stack: contextlib.ExitStack) -> None:
    key = harness.key
    model_class = models.available(key.model)
    harness.describe(
        "create the model's workers, run one trivial task, shut down",
        model=key.model,
        workers=key.workers,
        kind=schema.Kind.STARTUP,
    )

    def start_use_stop() -> None:
        model = model_class(key.workers)
        model.warm_delay = 0.0
        model.start()
        try:
            model.submit("labs.core.pool_worker:warm_up", 0.0).result()
        finally:
            model.shutdown()

    harness.bench(loop_timer(start_use_stop))


def body(harness: Harness, stack: contextlib.ExitStack) -> None:
    if harness.args.lab_latency_ms is not None:
        os.environ[local_server.LATENCY_ENV] = harness.args.lab_latency_ms
    if harness.key.suite == "startup":
        bench_startup(harness, stack)
    else:
        bench_job(harness, stack)


def main() -> int:
    return Harness("labs.measure.job", OPTIONS).main(body)


if __name__ == "__main__":
    sys.exit(main())
