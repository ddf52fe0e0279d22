"""The lab's own dispatch overhead: one job through the lab's model vs the same job on a bare executor.

``python -m labs.measure.overhead [--lab-workload nbody] [--lab-workers 2] [pyperf options] -o out.json``
registers, per model, two pyperf benchmarks over the same tasks and chunks: ``dispatch/<model>/lab``
(the lab's n-workers pattern: calls by name, result checks, deadline) and ``dispatch/<model>/bare``
(what a user would write: ``executor.submit(chunk_function, chunk)`` on a plain concurrent.futures
executor). Then it prints the ratio lab / bare with its bootstrap interval and the Mann-Whitney p-value.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, wait
from typing import Any

import pyperf

from labs import models, workloads
from labs.analyse import stats
from labs.core import limits
from labs.core.callref import resolve
from labs.core.errors import UsageError
from labs.core.pool_worker import warm_up
from labs.execute import lab, patterns
from labs.measure.harness import Harness, Option, loop_timer
from labs.plan.key import BenchKey

BARE: dict[str, Any] = {
    "threads": lambda n: ThreadPoolExecutor(n),
    "processes-fork": lambda n: ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork")),
}
OPTIONS = (
    Option("workload", str, "nbody", "a CPU workload"),
    Option("workers", int, 2, "workers of both pools"),
)


def apply_chunk(func: Any, chunk: tuple[Any, ...]) -> tuple[Any, ...]:
    """The bare executor's job: a function object and a chunk, no names, no checks."""
    return tuple(func(task) for task in chunk)


def _bare_pool(model: str, workers: int) -> Executor:
    pool = BARE[model](workers)
    wait([pool.submit(warm_up, 0.05) for _ in range(workers)])
    return pool


def _print_ratio(model_name: str, lab_bench: pyperf.Benchmark, bare_bench: pyperf.Benchmark) -> None:
    lab_values, bare_values = lab_bench.get_values(), bare_bench.get_values()
    low, high = stats.bootstrap_ratio_ci(bare_values, lab_values)
    _, p = stats.mann_whitney_u(bare_values, lab_values)
    ratio = stats.mean(lab_values) / stats.mean(bare_values)
    print(
        f"{model_name}: lab / bare = {ratio:.4f} [{low:.4f}, {high:.4f}], p = {p:.2g}, "
        f"n = {len(lab_values)}/{len(bare_values)}"
    )


def body(harness: Harness, stack: contextlib.ExitStack) -> None:
    args = harness.args
    workload = workloads.get(args.lab_workload)
    if workload.kind != "cpu":
        cpu = ", ".join(w.name for w in workloads.all_workloads() if w.kind == "cpu")
        raise UsageError(f"overhead measures CPU workloads only; {workload.name!r} is {workload.kind}: {cpu}")
    workers = limits.check_workers(args.lab_workers)
    tasks = workload.make_tasks(workload.sizes["default"])
    chunks = patterns.split(tasks, workers)
    func = resolve(workload.task)
    expected = lab.serial_reference(workload, tasks) if harness.worker else None
    harness.record(workload=workload.name, workers=workers, tasks=len(tasks))
    for model_name in BARE:
        combination = lab.Combination(workload.name, model_name, "n-workers", workers)
        lab_job = bare_job = lambda: None  # the manager times nothing
        if harness.worker:
            model = models.get(model_name)(workers)
            model.start()
            stack.callback(model.shutdown)
            bare = _bare_pool(model_name, workers)
            stack.callback(bare.shutdown)
            lab.verify(
                combination, lab.execute(model, "n-workers", workload.task, tasks, combination), expected
            )

            def lab_job(model: Any = model, combination: Any = combination) -> list:
                return lab.execute(model, "n-workers", workload.task, tasks, combination)

            def bare_job(bare: Executor = bare) -> list:
                futures = [bare.submit(apply_chunk, func, chunk) for chunk in chunks]
                return [result for future in futures for result in future.result()]

        side = BenchKey("dispatch", model=model_name)
        lab_bench = harness.bench(loop_timer(lab_job), key=side.with_params(side="lab"))
        bare_bench = harness.bench(loop_timer(bare_job), key=side.with_params(side="bare"))
        if lab_bench is not None and bare_bench is not None and not harness.worker:
            _print_ratio(model_name, lab_bench, bare_bench)


def main() -> int:
    return Harness("labs.measure.overhead", OPTIONS).main(body)


if __name__ == "__main__":
    sys.exit(main())
