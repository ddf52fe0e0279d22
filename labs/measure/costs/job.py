"""One cost bench: ``python -m labs.measure.costs.job --cost KIND ... [pyperf options]``.

transfer  --channel C --size BYTES   round trip of a payload (verified: the echo equals what was sent)
ladder    --rung R                   one rung of the latency ladder
race      --strategy S --threads N   a shared counter: time, and lost updates in metadata
asyncio-task --workers N             create N asyncio tasks on a running loop and await them
memory    --model M --workers N -o FILE   RSS/PSS/USS per worker (bytes; written without pyperf's timer)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import pyperf

from labs import models
from labs.core.errors import UsageError
from labs.measure.costs import ladder, memory, races, transfer
from labs.measure.job import runtime_metadata

OPTIONS = (
    "cost",
    "channel",
    "size",
    "rung",
    "strategy",
    "threads",
    "model",
    "workers",
    "increments",
    "machine",
)


def _forward(cmd: list[str], args: argparse.Namespace) -> None:
    for option in OPTIONS:
        value = getattr(args, f"lab_{option}")
        if value is not None:
            cmd.extend((f"--lab-{option}", str(value)))


def _transfer(runner: pyperf.Runner, args: argparse.Namespace) -> Any:
    cls = transfer.CHANNELS[args.lab_channel]
    why = cls.unavailable_reason(args.lab_size)
    if why:
        raise UsageError(f"channel {cls.name} at {args.lab_size} bytes: {why}")
    transfer.check_memory(args.lab_size)
    runner.metadata.update(
        lab_kind="transfer",
        lab_channel=cls.name,
        lab_payload_bytes=args.lab_size,
        description=cls.description,
    )
    name = f"transfer/{cls.name}/{args.lab_size}"
    inner = max(1, min(1000, (4 << 20) // args.lab_size))  # ~4 MiB moved per value, at most 1000 trips
    if not args.worker:
        runner.bench_time_func(name, lambda loops: 0.0, inner_loops=inner)
        return None
    channel = cls(args.lab_size)
    channel.start()
    payload = channel.payload()
    transfer.check_echo(channel, payload)
    runner.metadata.update(runtime_metadata(args.lab_machine))

    def time_trips(loops: int) -> float:
        trip = channel.round_trip
        start = time.perf_counter()
        for _ in range(loops * inner):
            trip(payload)
        return time.perf_counter() - start

    runner.bench_time_func(name, time_trips, inner_loops=inner)
    return channel


def _ladder(runner: pyperf.Runner, args: argparse.Namespace) -> Any:
    cls = ladder.RUNGS[args.lab_rung]
    why = cls.unavailable_reason()
    if why:
        raise UsageError(f"rung {cls.name}: {why}")
    runner.metadata.update(lab_kind="ladder", lab_rung=cls.name, description=cls.description)
    if cls.classic:
        runner.metadata.update(lab_classic=cls.classic[0], lab_classic_seconds=cls.classic[1])
    if cls is ladder.FsyncWrite:
        runner.metadata["lab_temp_filesystem"] = ladder.temp_filesystem()
    name = f"ladder/{cls.name}"
    if not args.worker:
        runner.bench_time_func(name, lambda loops: 0.0, inner_loops=cls.ops)
        return None
    rung = cls()
    rung.start()
    rung.run()  # warm: the first pass pays for first touches
    runner.metadata.update(runtime_metadata(args.lab_machine))
    runner.bench_time_func(name, rung.timed, inner_loops=cls.ops)
    return rung


def _race(runner: pyperf.Runner, args: argparse.Namespace) -> None:
    threads, increments = args.lab_threads, args.lab_increments
    runner.metadata.update(
        lab_kind="race",
        lab_strategy=args.lab_strategy,
        lab_threads=threads,
        lab_increments=increments,
        description=f"{threads} threads x {increments} increments",
    )
    if args.lab_strategy in races.ASYNC_STRATEGIES:
        return _asyncio_race(runner, args)
    name = f"race/{args.lab_strategy}/t{threads}"
    if args.worker:
        result = races.count_with(args.lab_strategy, threads, increments)
        runner.metadata.update(runtime_metadata(args.lab_machine))
        runner.metadata.update(lab_expected=result.expected, lab_lost=result.lost)

    def time_counting(loops: int) -> float:
        start = time.perf_counter()
        for _ in range(loops):
            races.count_with(args.lab_strategy, threads, increments)
        return time.perf_counter() - start

    runner.bench_time_func(name, time_counting)


def _asyncio_race(runner: pyperf.Runner, args: argparse.Namespace) -> None:
    locked = args.lab_strategy == "asyncio-locked"
    withdrawals, amount, balance = args.lab_threads, 1, args.lab_threads // 2
    runner.metadata.update(description=f"{withdrawals} concurrent withdrawals of {amount} from {balance}")
    if args.worker:
        final = races.asyncio_overdraft(withdrawals, amount, balance, locked)
        runner.metadata.update(runtime_metadata(args.lab_machine))
        runner.metadata.update(lab_final_balance=final, lab_overdraft=max(0, -final))

    def time_withdrawals(loops: int) -> float:
        start = time.perf_counter()
        for _ in range(loops):
            races.asyncio_overdraft(withdrawals, amount, balance, locked)
        return time.perf_counter() - start

    runner.bench_time_func(f"race/{args.lab_strategy}/c{withdrawals}", time_withdrawals)


async def _tasks(count: int) -> None:
    async def trivial() -> None:
        return None

    await asyncio.gather(*(asyncio.create_task(trivial()) for _ in range(count)))


def _asyncio_task(runner: pyperf.Runner, args: argparse.Namespace) -> Any:
    workers = args.lab_workers
    runner.metadata.update(
        lab_kind="startup",
        lab_model="asyncio-task",
        lab_workers=workers,
        description="create asyncio tasks on a running loop, run them, await them all",
    )
    loop = asyncio.new_event_loop() if args.worker else None
    if loop is not None:
        runner.metadata.update(runtime_metadata(args.lab_machine))

    def time_tasks(loops: int) -> float:
        start = time.perf_counter()
        for _ in range(loops):
            loop.run_until_complete(_tasks(workers))
        return time.perf_counter() - start

    runner.bench_time_func(f"startup/asyncio-task/w{workers}", time_tasks)
    return loop


def measure_memory(model_name: str, workers: int, repeat: int, output: str, machine: str) -> None:
    """Write a pyperf suite of memory/<model>/w<N>/<metric> benches (unit: byte) to *output*."""
    why = memory.unavailable_reason() or models.get(model_name).unavailable_reason()
    if why:
        raise UsageError(f"memory of {model_name}: {why}")
    samples: dict[str, list[float]] = {metric: [] for metric in memory.METRICS}
    for _ in range(repeat):
        before = memory.tree_memory()
        model = models.get(model_name)(workers)
        model.start()
        time.sleep(0.1)  # let children finish importing what start-up made them import
        after = memory.tree_memory()
        model.shutdown()
        for metric, value in memory.per_worker(before, after, workers).items():
            samples[metric].append(max(value, 1.0))  # pyperf values must be positive
    benchmarks = []
    for metric, values in samples.items():
        metadata = {
            "name": f"memory/{model_name}/w{workers}/{metric}",
            "unit": "byte",
            "lab_kind": "memory",
            "lab_model": model_name,
            "lab_workers": workers,
            "lab_metric": metric,
            "lab_memory_source": memory.SOURCE,
            **runtime_metadata(machine),
        }
        benchmarks.append(pyperf.Benchmark([pyperf.Run(values, warmups=None, metadata=metadata)]))
    pyperf.BenchmarkSuite(benchmarks).dump(output, replace=True)


def main() -> int:
    runner = pyperf.Runner(add_cmdline_args=_forward, program_args=("-m", "labs.measure.costs.job"))
    parser = runner.argparser
    parser.add_argument(
        "--lab-cost", required=True, choices=("transfer", "ladder", "race", "asyncio-task", "memory")
    )
    parser.add_argument("--lab-channel")
    parser.add_argument("--lab-size", type=int)
    parser.add_argument("--lab-rung")
    parser.add_argument("--lab-strategy")
    parser.add_argument("--lab-threads", type=int)
    parser.add_argument("--lab-model")
    parser.add_argument("--lab-workers", type=int)
    parser.add_argument("--lab-increments", type=int)
    parser.add_argument("--lab-machine", default="unknown")
    args = runner.parse_args()
    resource = None
    try:
        if args.lab_cost == "memory":
            measure_memory(
                args.lab_model, args.lab_workers, max(args.values or 3, 2), args.output, args.lab_machine
            )
        elif args.lab_cost == "transfer":
            resource = _transfer(runner, args)
        elif args.lab_cost == "ladder":
            resource = _ladder(runner, args)
        elif args.lab_cost == "race":
            _race(runner, args)
        else:
            resource = _asyncio_task(runner, args)
    except (UsageError, ValueError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    finally:
        if resource is not None:
            resource.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
