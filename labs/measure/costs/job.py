"""One cost bench: ``python -m labs.measure.costs.job --lab-key KEY [--lab-increments N] [pyperf options]``.

The key's suite says what is measured:
transfer  (subject: carrier, params bytes)  round trip of a payload (verified: the echo equals what was sent)
ladder    (subject: rung)                   one rung of the latency ladder
race      (subject: strategy, workers)      a shared counter: time, and lost updates in metadata
startup   (model asyncio-task, workers)     create N asyncio tasks on a running loop and await them
memory    (model, workers)                  RSS/PSS/USS per worker, in bytes, written without pyperf's timer
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable

import pyperf

from labs import models
from labs.core import limits
from labs.core.errors import UsageError
from labs.measure.costs import ladder, memory, races, transfer
from labs.measure.harness import Harness, Option, loop_timer, runtime_metadata
from labs.store import schema
from labs.store.schema import Kind

OPTIONS = (Option("increments", int, 1, "increments per thread (race)"),)


def _transfer(harness: Harness, stack: contextlib.ExitStack) -> None:
    key = harness.key
    cls, size = transfer.CARRIERS.get(key.subject), int(key.param("bytes"))
    why = cls.unavailable_reason(size)
    if why:
        raise UsageError(f"carrier {cls.name} at {size} bytes: {why}")
    limits.check_memory(size)
    harness.describe(cls.description, kind=Kind.TRANSFER, carrier=cls.name, payload_bytes=size)
    inner = max(1, min(1000, (4 << 20) // size))  # ~4 MiB moved per value, at most 1000 trips
    if not harness.worker:
        return harness.bench(loop_timer(lambda: None), inner_loops=inner)
    carrier = stack.enter_context(cls(size))
    payload = carrier.payload()
    transfer.check_echo(carrier, payload)
    harness.bench(loop_timer(lambda: carrier.round_trip(payload), repeat=inner), inner_loops=inner)


def _ladder(harness: Harness, stack: contextlib.ExitStack) -> None:
    cls = ladder.RUNGS.get(harness.key.subject)
    why = cls.unavailable_reason()
    if why:
        raise UsageError(f"rung {cls.name}: {why}")
    harness.describe(cls.description, kind=Kind.LADDER, rung=cls.name)
    if cls.classic:
        harness.record(classic=cls.classic[0], classic_seconds=cls.classic[1])
    if cls is ladder.FsyncWrite:
        harness.record(temp_filesystem=ladder.temp_filesystem())
    if not harness.worker:
        return harness.bench(loop_timer(lambda: None), inner_loops=cls.ops)
    rung = stack.enter_context(cls())
    rung.run()  # warm: the first pass pays for first touches
    harness.bench(rung.timed, inner_loops=cls.ops)


def _race(harness: Harness, stack: contextlib.ExitStack) -> None:
    key, increments = harness.key, harness.args.lab_increments
    strategy, threads = key.subject, key.workers
    harness.describe(
        f"{threads} threads x {increments} increments",
        kind=Kind.RACE,
        strategy=strategy,
        threads=threads,
        increments=increments,
    )
    job: Callable[[], object]
    if strategy in races.ASYNC_STRATEGIES:
        locked, balance = strategy == "asyncio-locked", threads // 2
        harness.runner.metadata["description"] = f"{threads} concurrent withdrawals of 1 from {balance}"

        def job() -> int:
            return races.asyncio_overdraft(threads, 1, balance, locked)

        outcome = {}
        if harness.worker:
            final = job()
            outcome = {"final_balance": final, "overdraft": max(0, -final)}  # names in labs.store.schema
    else:

        def job() -> races.CounterResult:
            return races.count_with(strategy, threads, increments)

        outcome = {}
        if harness.worker:
            result = job()
            outcome = {"expected": result.expected, "lost": result.lost}
    harness.bench(loop_timer(job), **outcome)


async def _tasks(count: int) -> None:
    async def trivial() -> None:
        return None

    await asyncio.gather(*(asyncio.create_task(trivial()) for _ in range(count)))


def _asyncio_task(harness: Harness, stack: contextlib.ExitStack) -> None:
    workers = harness.key.workers
    harness.describe(
        "create asyncio tasks on a running loop, run them, await them all",
        kind=Kind.STARTUP,
        model="asyncio-task",
        workers=workers,
    )
    if not harness.worker:
        return harness.bench(loop_timer(lambda: None))
    loop = asyncio.new_event_loop()
    stack.callback(loop.close)
    harness.bench(loop_timer(lambda: loop.run_until_complete(_tasks(workers))))


def measure_memory(harness: Harness, stack: contextlib.ExitStack) -> None:
    """Write a pyperf suite of memory/<model>/w<N>/<metric> benches (unit: byte) to pyperf's -o file."""
    key, args = harness.key, harness.args
    why = memory.unavailable_reason() or models.get(key.model).unavailable_reason()
    if why:
        raise UsageError(f"memory of {key.model}: {why}")
    samples: dict[str, list[float]] = {metric: [] for metric in memory.METRICS}
    for _ in range(max(args.values or 3, 2)):
        before = memory.tree_memory()
        model = models.get(key.model)(key.workers)
        model.start()
        time.sleep(0.1)  # let children finish importing what start-up made them import
        after = memory.tree_memory()
        model.shutdown()
        for metric, value in memory.per_worker(before, after, key.workers).items():
            samples[metric].append(max(value, 1.0))  # pyperf values must be positive
    benchmarks = []
    for metric, values in samples.items():
        metric_key = key.with_params(metric=metric)
        metadata = {
            "name": metric_key.name,
            "unit": "byte",
            **schema.checked(
                kind=Kind.MEMORY,
                model=key.model,
                workers=key.workers,
                metric=metric,
                memory_source=memory.SOURCE,
            ),
            **metric_key.metadata(),
            **runtime_metadata(args.lab_machine),
        }
        benchmarks.append(pyperf.Benchmark([pyperf.Run(values, warmups=None, metadata=metadata)]))
    pyperf.BenchmarkSuite(benchmarks).dump(args.output, replace=True)


def body(harness: Harness, stack: contextlib.ExitStack) -> None:
    suite = harness.key.suite
    if suite == "startup" and harness.key.model == "asyncio-task":
        _asyncio_task(harness, stack)
    elif suite in ("transfer", "ladder", "race", "memory"):
        {"transfer": _transfer, "ladder": _ladder, "race": _race, "memory": measure_memory}[suite](
            harness, stack
        )
    else:
        raise UsageError(f"not a cost bench: {harness.key.name}")


def main() -> int:
    return Harness("labs.measure.costs.job", OPTIONS).main(body)


if __name__ == "__main__":
    sys.exit(main())
