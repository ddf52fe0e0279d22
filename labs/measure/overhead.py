"""The lab's own dispatch overhead: one job through the lab's model vs the same job on a bare executor.

``python -m labs.measure.overhead [--lab-workload nbody] [--lab-workers 2] [pyperf options] -o out.json``
registers, per model, two pyperf benchmarks over the same tasks and chunks: ``dispatch/<model>/lab``
(the lab's n-workers pattern: calls by name, result checks, deadline) and ``dispatch/<model>/bare``
(what a user would write: ``executor.submit(chunk_function, chunk)`` on a plain concurrent.futures
executor). Then it prints the ratio lab / bare with its bootstrap interval and the Mann-Whitney p-value.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, wait
from typing import Any

import pyperf

from labs import models, workloads
from labs.analyse import stats
from labs.core import lab, patterns
from labs.core.callref import resolve
from labs.core.pool_worker import warm_up

BARE: dict[str, Any] = {
    "threads": lambda n: ThreadPoolExecutor(n),
    "processes-fork": lambda n: ProcessPoolExecutor(
        n, mp_context=__import__("multiprocessing").get_context("fork")
    ),
}


def apply_chunk(func: Any, chunk: tuple[Any, ...]) -> tuple[Any, ...]:
    """The bare executor's job: a function object and a chunk, no names, no checks."""
    return tuple(func(task) for task in chunk)


def _forward(cmd: list[str], args: Any) -> None:
    cmd.extend(("--lab-workload", args.lab_workload, "--lab-workers", str(args.lab_workers)))


def _bare_pool(model: str, workers: int) -> Executor:
    pool = BARE[model](workers)
    wait([pool.submit(warm_up, 0.05) for _ in range(workers)])
    return pool


def main() -> int:
    runner = pyperf.Runner(add_cmdline_args=_forward, program_args=("-m", "labs.measure.overhead"))
    runner.argparser.add_argument("--lab-workload", default="nbody")
    runner.argparser.add_argument("--lab-workers", type=int, default=2)
    args = runner.parse_args()
    workload = workloads.get(args.lab_workload)
    tasks = workload.make_tasks(workload.sizes["quick"])
    chunks = patterns.split(tasks, args.lab_workers)
    func = resolve(workload.task)
    expected = lab.serial_reference(workload, tasks) if args.worker else None
    runner.metadata.update(lab_workload=workload.name, lab_workers=args.lab_workers, lab_tasks=len(tasks))
    for model_name in BARE:
        combination = lab.Combination(workload.name, model_name, "n-workers", args.lab_workers)
        model = bare = None
        if args.worker:
            model = models.get(model_name)(args.lab_workers)
            model.start()
            bare = _bare_pool(model_name, args.lab_workers)
            lab.verify(
                combination, lab.execute(model, "n-workers", workload.task, tasks, combination), expected
            )

        def through_lab(loops: int, model: Any = model, combination: Any = combination) -> float:
            start = time.perf_counter()
            for _ in range(loops):
                lab.execute(model, "n-workers", workload.task, tasks, combination)
            return time.perf_counter() - start

        def bare_executor(loops: int, bare: Any = bare) -> float:
            start = time.perf_counter()
            for _ in range(loops):
                futures = [bare.submit(apply_chunk, func, chunk) for chunk in chunks]
                [result for future in futures for result in future.result()]
            return time.perf_counter() - start

        lab_bench = runner.bench_time_func(f"dispatch/{model_name}/lab", through_lab)
        bare_bench = runner.bench_time_func(f"dispatch/{model_name}/bare", bare_executor)
        if model is not None:
            model.shutdown()
            bare.shutdown()
        if lab_bench is not None and bare_bench is not None and not args.worker:
            low, high = stats.bootstrap_ratio_ci(bare_bench.get_values(), lab_bench.get_values())
            _, p = stats.mann_whitney_u(bare_bench.get_values(), lab_bench.get_values())
            ratio = stats.mean(lab_bench.get_values()) / stats.mean(bare_bench.get_values())
            print(
                f"{model_name}: lab / bare = {ratio:.4f} [{low:.4f}, {high:.4f}], p = {p:.2g}, "
                f"n = {len(lab_bench.get_values())}/{len(bare_bench.get_values())}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
