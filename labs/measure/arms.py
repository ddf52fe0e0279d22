"""Every arm of a question in one measuring process: ``python -m labs.measure.arms --lab-key KEY ...``.

For one workload on one runtime, the process starts the serial baseline and every model x worker count
of the sweep (its arms), runs each arm's job once and verifies it against the serial reference (the
warm-up), and then times rounds: each round runs every arm's job once, in a fresh order drawn from a
seeded generator. Host drift within the process lands on every arm alike, so an arm's per-process mean
is paired in time with every other arm's, and its speedup is the serial baseline's time over its own
time in the same process (labs.analyse.estimates pairs them by process).

A fork arm's pool must not be forked from this process once another pool's manager thread (or any
thread or subinterpreter) exists: forking a multi-threaded process can deadlock the child (Python
3.12+ warns about it). So, before anything starts a thread, one helper process is forked for each fork
arm; the helper, single-threaded, starts its fork pool and runs that arm's jobs when asked, timing each
itself (the pipe's round trip stays outside the time). The fork arms thus take their turns in the same
rounds as every other arm.

The output is pyperf's format: one pyperf benchmark per arm, one run each (this process's), carrying
``lab_block`` (the process's index in its group) and ``lab_group`` so the pairs can be rebuilt. An arm
that fails to start, verify or finish is left out of the output and named, with its reason, in the
outcome file; the process fails only when the serial baseline does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import signal
import sys
import threading
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
        if key.suite != "matrix" or key.pattern != "n-workers":
            raise UsageError(f"{key.name}: an arm is a matrix n-workers bench")
    return keys


class Arm:
    """One arm in this process: its key, its started model and its job."""

    def __init__(self, key: BenchKey, model: Any, job: Callable[[], list]) -> None:
        self.key, self.job = key, job
        self.facts = {name: str(value) for name, value in model.facts().items()} if model else {}
        self.queue_type = model.queue_type if model else None
        self.warmups: list[float] = []
        self.values: list[float] = []

    def time(self) -> float:
        started = time.perf_counter()
        self.job()
        return time.perf_counter() - started


class ForkedArm(Arm):
    """A fork arm whose pool lives in a helper forked while this process had no other thread; the helper
    verifies the first job and times every job itself."""

    def __init__(self, key: BenchKey, helper: int, connection: Any, timeout: float) -> None:
        super().__init__(key, None, lambda: [])
        self.facts, self.queue_type = {"start_method": "fork"}, "multiprocessing.Queue"
        self.helper, self.connection, self.timeout = helper, connection, timeout

    def time(self) -> float:
        try:
            self.connection.send("job")
            if not self.connection.poll(self.timeout + 30):
                raise RunError(
                    f"{self.key.name}: the fork pool's helper did not answer in {self.timeout:g} s"
                )
            status, value = self.connection.recv()
        except (EOFError, OSError) as exc:  # the helper died (killed, out of memory)
            self._end()
            raise RunError(
                f"{self.key.name}: the fork pool's helper is gone ({type(exc).__name__})"
            ) from None
        except RunError:
            self._end()  # a hung helper must not run its pool beside the other arms' rounds
            raise
        if status != "ok":
            self._end()
            raise RunError(value)
        return float(value)

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.connection.send("stop")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # its pool stops in well under a second; never wait forever
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(self.helper, os.WNOHANG)[0]:
                    return
                time.sleep(0.01)
                continue
            return
        self._end()

    def _end(self) -> None:
        """Kill the helper and its pool (the helper's own process group is ours: by pid, then reap)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.helper, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.helper, 0)


def _fork_helper(
    key: BenchKey, workload: workloads.Workload, tasks: list, expected: list, timeout: float
) -> ForkedArm:
    """Fork the helper that holds *key*'s fork pool (this process must have no other thread yet)."""
    if threading.active_count() > 1:
        raise RunError(f"{key.name}: a thread exists before the fork pool's helper could be forked")
    ours, theirs = multiprocessing.Pipe()
    pid = os.fork()
    if pid == 0:  # the helper: serve this arm's jobs until told to stop, then leave without clean-up
        code = 1
        try:
            ours.close()
            proctree.die_with_parent()
            code = _serve(theirs, key, workload, tasks, expected, timeout)
        finally:
            os._exit(code)
    theirs.close()
    return ForkedArm(key, pid, ours, timeout)


def _serve(
    connection: Any, key: BenchKey, workload: workloads.Workload, tasks: list, expected: list, timeout: float
) -> int:
    combination = lab.Combination(workload.name, key.model, key.pattern, key.workers)
    task_func = lab.task_function(workload, key.model)
    verified = False
    try:
        with lab.started(models.available(key.model), combination) as model:
            while connection.recv() == "job":
                started = time.perf_counter()
                results = lab.execute(model, key.pattern, task_func, tasks, combination, timeout)
                seconds = time.perf_counter() - started
                if not verified:
                    lab.verify(combination, results, expected, workload.verified)
                    verified = True
                connection.send(("ok", seconds))
    except EOFError:  # the measuring process went away
        return 1
    except Exception as exc:  # said to the measuring process, which names the arm as failed
        reason = str(exc) if isinstance(exc, RunError | UsageError) else f"{type(exc).__name__}: {exc}"
        with contextlib.suppress(OSError):
            connection.send(("failed", reason))
        return 1
    return 0


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
        # fork arms first: their helpers are forked before anything here starts a thread
        for key in sorted([serial_key, *others], key=lambda k: k.model != "processes-fork"):
            try:
                if key.model != "serial":
                    limits.check_cpu_workers(key.workers, usable)
                if key.model == "processes-fork":
                    forked = _fork_helper(key, workload, tasks, expected, args.lab_timeout)
                    stack.callback(forked.stop)
                    forked.time()  # its first job, verified by the helper: the first warm-up
                    arms.append(forked)
                else:
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
            metadata.update(schema.checked(paired_with=serial_key.to_json(), queue_type=arm.queue_type))
            metadata.update(schema.check({schema.stored(name): value for name, value in arm.facts.items()}))
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
