"""Every arm of a question in one measuring process: ``python -m labs.measure.arms --lab-key KEY ...``.

For one workload on one runtime, the process starts the serial baseline and every model x worker count
of the sweep (its arms), runs each arm's job once and verifies it against the serial reference (the
warm-up), and then times rounds: each round runs every arm's job once, in a fresh order drawn from a
seeded generator. Host drift within the process lands on every arm alike, so an arm's per-process mean
is paired in time with every other arm's, and its speedup is the serial baseline's time over its own
time in the same process (labs.analyse.estimates pairs them by process).

Fork arms are not measured here: a fork pool started after another pool's manager thread (or any
thread or subinterpreter) forks a multi-threaded process, which can deadlock the child (Python 3.12+
warns about it). They keep a process each, a fork pool forked before any thread, with the serial
baseline timed beside it (labs.measure.job); the planner says so.

The output is pyperf's format: one pyperf benchmark per arm, one run each (this process's), carrying
``lab_block`` (the process's index in its group) and ``lab_group`` so the pairs can be rebuilt. An arm
that fails to start, verify or finish is left out of the output and named, with its reason, in the
outcome file; the process fails only when the serial baseline does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyperf

from labs import models, workloads
from labs.core import limits, proctree, runtime
from labs.core.errors import RunError, UsageError
from labs.execute import lab
from labs.measure.harness import runtime_metadata
from labs.plan.key import BenchKey
from labs.store import schema


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m labs.measure.arms")
    parser.add_argument("--lab-key", type=BenchKey.from_json, required=True, help="the serial arm's key")
    parser.add_argument("--lab-arms", required=True, help="the other arms' keys, a JSON list of key JSON")
    parser.add_argument("--lab-group", required=True, help="the group's id, shared by its processes")
    parser.add_argument("--lab-block", type=int, required=True, help="this process's index in its group")
    parser.add_argument("--lab-seed", type=int, required=True, help="seeds the order of each round")
    parser.add_argument("--lab-size", type=int, default=4, help="tasks per job")
    parser.add_argument("--lab-timeout", type=float, default=limits.DEFAULT_TIMEOUT)
    parser.add_argument("--lab-machine", default="unknown")
    parser.add_argument("--lab-outcome", help="where failures are written as JSON")
    parser.add_argument("--values", type=int, default=3, help="timed rounds")
    parser.add_argument("--warmups", type=int, default=1, help="untimed rounds after the verifying one")
    parser.add_argument("-o", "--output", required=True, help="the pyperf JSON file to write")
    parser.error = _usage_error  # type: ignore[method-assign]
    return parser.parse_args(argv)


def _usage_error(message: str) -> Any:
    raise UsageError(f"{message} (python -m labs.measure.arms --help)")


def arm_keys(text: str) -> list[BenchKey]:
    try:
        listed = json.loads(text)
        keys = [BenchKey.from_json(item) for item in listed]
    except (ValueError, TypeError, KeyError) as exc:
        raise UsageError(f"--lab-arms is not a JSON list of bench keys: {exc}") from None
    for key in keys:
        if key.suite != "matrix" or key.pattern != "n-workers" or key.model == "processes-fork":
            raise UsageError(f"{key.name}: an arm is a matrix n-workers bench of a model other than fork")
    return keys


class Arm:
    """One arm in this process: its key, its started model and its job."""

    def __init__(self, key: BenchKey, model: Any, job: Callable[[], list]) -> None:
        self.key, self.model, self.job = key, model, job
        self.warmups: list[float] = []
        self.values: list[float] = []

    def time(self) -> float:
        started = time.perf_counter()
        self.job()
        return time.perf_counter() - started


def measure(args: argparse.Namespace) -> tuple[list[Arm], dict[str, str], dict[str, object]]:
    """Start, verify and time every arm; (the arms timed, the failed arms' reasons, shared metadata)."""
    serial_key, others = args.lab_key, arm_keys(args.lab_arms)
    workload = workloads.get(serial_key.workload)
    usable = runtime.usable_cpus()
    failed: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        env = stack.enter_context(workload.environment())
        tasks = workload.make_tasks(args.lab_size, env)
        expected = lab.serial_reference(workload, tasks)
        arms: list[Arm] = []
        for key in [serial_key, *others]:
            try:
                if key.model != "serial":
                    limits.check_cpu_workers(key.workers, usable)
                arms.append(_start(stack, workload, key, tasks, expected, args.lab_timeout))
            except (RunError, UsageError) as exc:
                if key is serial_key:
                    raise
                failed[key.name] = str(exc)
        order = random.Random(args.lab_seed * 1_000_003 + args.lab_block)
        for round_index in range(args.warmups + args.values):
            for arm in order.sample(arms, len(arms)):
                if arm.key.name in failed:
                    continue
                try:
                    seconds = arm.time()
                except RunError as exc:
                    if arm.key is serial_key:
                        raise
                    failed[arm.key.name] = str(exc)
                    continue
                (arm.warmups if round_index < args.warmups else arm.values).append(seconds)
        shared = {
            **runtime_metadata(args.lab_machine),
            **schema.checked(tasks=args.lab_size, kind=workload.kind, workload=workload.name),
            **schema.checked(**workload.variant()),
            "description": workload.description,
        }
        example = repr(tasks[0]).replace(str(env), "<env>") if env else repr(tasks[0])
        shared.update(schema.checked(task_example=example))
        return [arm for arm in arms if arm.key.name not in failed], failed, shared


def _start(
    stack: contextlib.ExitStack,
    workload: workloads.Workload,
    key: BenchKey,
    tasks: list,
    expected: list,
    timeout: float,
) -> Arm:
    """The arm's model started, its job run once and verified (the first warm-up)."""
    model_class = models.available(key.model)
    combination = lab.Combination(workload.name, key.model, key.pattern, key.workers)
    model = stack.enter_context(lab.started(model_class, combination))
    task_func = lab.task_function(workload, key.model)

    def job() -> list:
        return lab.execute(model, key.pattern, task_func, tasks, combination, timeout)

    lab.verify(combination, job(), expected, workload.verified)
    return Arm(key, model, job)


def write(args: argparse.Namespace, arms: list[Arm], shared: dict[str, object]) -> None:
    """One pyperf benchmark per arm, one run each, in pyperf's own format."""
    serial_key = args.lab_key
    collected: dict[str, object] | None = None
    benchmarks = []
    for arm in arms:
        metadata: dict[str, object] = {
            **shared,
            "name": arm.key.name,
            "loops": 1,
            "unit": "second",
            **arm.key.metadata(),
            **schema.checked(
                model=arm.key.model,
                pattern=arm.key.pattern,
                workers=arm.key.workers,
                group=args.lab_group,
                block=args.lab_block,
                arms=len(arms),
            ),
        }
        if arm.key != serial_key:
            facts = {name: str(value) for name, value in arm.model.facts().items()}
            metadata.update(schema.checked(paired_with=serial_key.to_json(), queue_type=arm.model.queue_type))
            metadata.update(schema.check({schema.stored(name): value for name, value in facts.items()}))
        run = pyperf.Run(
            arm.values,
            warmups=[(1, value) for value in arm.warmups],
            metadata=metadata if collected is None else {**collected, **metadata},
            collect_metadata=collected is None,
        )
        if collected is None:  # pyperf's system metadata, collected once for the process
            collected = {k: v for k, v in run.get_metadata().items() if k not in metadata}
        benchmarks.append(pyperf.Benchmark([run]))
    pyperf.BenchmarkSuite(benchmarks).dump(args.output, replace=True)


def _write_outcome(path: str | None, outcome: dict[str, object]) -> None:
    if not path:
        return
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    with contextlib.suppress(OSError):  # the reason is on stderr too
        temporary.write_text(json.dumps(outcome))
        temporary.replace(target)


def main(argv: Sequence[str] | None = None) -> int:
    proctree.die_with_parent()
    outcome_path = None
    try:
        args = _arguments(sys.argv[1:] if argv is None else argv)
        outcome_path = args.lab_outcome
        arms, failed, shared = measure(args)
        write(args, arms, shared)
    except (RunError, UsageError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        _write_outcome(outcome_path, {"failed": str(exc)})
        return 2 if isinstance(exc, UsageError) else 1
    _write_outcome(outcome_path, {"arms_failed": failed})
    return 0


if __name__ == "__main__":
    sys.exit(main())
