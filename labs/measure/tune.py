"""labs tune: which model, and how many workers, for one workload on this runtime and machine.

Each model is swept by doubling its worker count (1, 2, 4, ...) while the larger count's throughput
still rises beyond its interval, up to 1,024 workers for threads and asyncio and 4 x the CPUs for
processes and subinterpreters (and never beyond the job's task count), then refined between the two best
counts. Every step is measured side by side: its counts' pools are kept warm in this process and each
round times the serial baseline and every count once, in a fresh seeded order, so a speedup is the serial
time over the count's time *of the same round* and host drift divides out. Results are verified
against the serial reference before anything is timed.

The answer per model: the measured best count, the recommended count (the smallest that cannot be
told apart from the best), the Universal Scalability Law fitted to the curve (labs.analyse.usl), and for
waiting work the wait fraction with the classic CPUs x (1 + W/C) estimate beside the measurement.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from labs import models
from labs.analyse import stats, usl
from labs.core import proctree, runtime
from labs.core.callref import resolve
from labs.execute import lab
from labs.measure.costs import memory
from labs.workloads import Workload
from labs.workloads.user import check_sendable

# Timed rounds a step, each pairing every count with a serial run of the same round: at least
# MIN_ROUNDS, and more (up to MAX_ROUNDS, within the time the step may take) while the step's question
# (does the larger count raise throughput?) is still open.
MIN_ROUNDS, MAX_ROUNDS = 4, 12
LIGHT_LIMIT = 1024  # threads and asyncio: workers that mostly wait
HEAVY_PER_CPU = 4  # processes and subinterpreters: past 4 x CPUs the machine, not the model, is measured


def candidates(workload: Workload, asked: list[str] | None) -> list[str]:
    """The models to try: those asked for, else threads, asyncio (for a workload with ``run_async``),
    the runtime's default process start method and the interpreter pool, where available here."""
    if asked:
        for name in asked:
            models.available(name)  # UsageError naming the reason
        return [name for name in asked if name != "serial"]
    default = f"processes-{multiprocessing.get_context().get_start_method()}"
    wanted = ["threads", *(["asyncio"] if workload.async_task else []), default, "interpreters-pool"]
    return [name for name in wanted if models.get(name).unavailable_reason() is None]


def limit(model: str, tasks: int, cpus: int) -> int:
    light = model in ("threads", "asyncio")
    return max(1, min(LIGHT_LIMIT if light else HEAVY_PER_CPU * cpus, tasks))


@dataclass
class ModelResult:
    model: str
    rounds: dict[int, list[float]] = field(default_factory=dict)  # count -> speedups, one per round
    best: int = 1
    stopped: str = ""
    memory: dict[int, float] = field(default_factory=dict)  # count -> MiB a worker adds (USS), if known

    def speedup(self, n: int) -> tuple[float, float, float]:
        return stats.log_mean_interval(self.rounds[n])

    @property
    def recommended(self) -> int:
        """The smallest count whose speedup cannot be told apart from the best count's."""
        for n in sorted(self.rounds):
            _, low, high = stats.ratio_interval(self.rounds[n], self.rounds[self.best])
            if n == self.best or not stats.told_apart(low, high):
                return n
        return self.best

    @property
    def fit(self) -> usl.Fit | None:
        return usl.fit({n: self.speedup(n)[0] for n in self.rounds})


def _paired(before: list[float], after: list[float]) -> tuple[float, float]:
    """The 95% interval of *after* / *before*, paired round by round (NaN with one round)."""
    _, low, high = stats.log_mean_interval([b / a for a, b in zip(before, after, strict=True)])
    return low, high


def rises(before: list[float], after: list[float]) -> bool:
    """Whether *after* (paired with *before* round by round) is faster beyond its 95% interval and the
    equivalence margin: a rise of 1% that many rounds make significant is still a tie, and doubling
    the workers on it would chase the host's noise."""
    low, high = _paired(before, after)
    return not math.isnan(low) and stats.told_apart(low, high)


def decided(before: list[float], after: list[float]) -> bool:
    """Whether more rounds could change the answer of ``rises``: no, once *after* is faster beyond its
    interval or its interval stays below the equivalence margin above *before*."""
    low, high = _paired(before, after)
    return not math.isnan(low) and (low > 1 or high < 1 + stats.TIE_MARGIN)


class Tuner:
    """One tuning session: the tasks, their serial reference, the budget and the progress lines."""

    def __init__(
        self, workload: Workload, tasks: list[Any], budget: float, seed: int, say: Callable[[str], None]
    ) -> None:
        self.workload, self.tasks, self.say = workload, tasks, say
        self.start = time.monotonic()
        self.deadline = self.start + budget
        self.rng = random.Random(seed)
        self.expected = lab.serial_reference(workload, tasks)
        self.run_serially = resolve(workload.task)
        self.serial_seconds = self._serial()[0]  # a warm-up too
        self.timeout = max(60.0, 50 * self.serial_seconds)

    def _serial(self) -> tuple[float, float]:
        """The wall and CPU seconds of the job run serially in this thread."""
        wall, cpu = time.perf_counter(), time.thread_time()
        for task in self.tasks:
            self.run_serially(task)
        return time.perf_counter() - wall, time.thread_time() - cpu

    def wait_fraction(self) -> float:
        """The share of a task's wall time spent waiting, measured serially (1 - CPU time / wall)."""
        wall, cpu = self._serial()
        return max(0.0, 1 - cpu / wall) if wall > 0 else 0.0

    def step(self, result: ModelResult, counts: list[int], until: float) -> dict[int, list[float]]:
        """Speedups over serial of *counts*, measured side by side: MIN_ROUNDS rounds (two at least
        past the deadline), then more while the step is undecided and may take half the time to *until*.
        What each count's workers came to hold is kept in *result*."""
        model = result.model
        model_class, task_func = models.available(model), lab.task_function(self.workload, model)
        found: dict[int, list[float]] = {n: [] for n in counts}
        with contextlib.ExitStack() as stack:
            running, footprints = {}, {}
            for n in counts:  # each pool started, warmed up and verified
                footprint = _Footprint()
                combination = lab.Combination(self.workload.name, model, "n-workers", n)
                pool = stack.enter_context(lab.started(model_class, combination))
                results = lab.execute(pool, "n-workers", task_func, self.tasks, combination, self.timeout)
                lab.verify(combination, results, self.expected, self.workload.verified)
                footprints[n] = footprint.started()
                running[n] = (pool, combination)
            step_end = time.monotonic() + (until - time.monotonic()) / 2
            for done in range(MAX_ROUNDS):
                if done >= 2 and time.monotonic() > self.deadline:
                    break
                if done >= MIN_ROUNDS and (
                    len(counts) < 2
                    or decided(found[counts[0]], found[counts[-1]])
                    or time.monotonic() > step_end
                ):
                    break
                arms: list[int | None] = [None, *counts]  # None: the serial baseline
                self.rng.shuffle(arms)
                seconds = {}
                for arm in arms:
                    if arm is None:
                        seconds[arm] = self._serial()[0]
                        continue
                    pool, combination = running[arm]
                    started = time.perf_counter()
                    lab.execute(pool, "n-workers", task_func, self.tasks, combination, self.timeout)
                    seconds[arm] = time.perf_counter() - started
                for n in counts:
                    found[n].append(seconds[None] / seconds[n])
            for n, footprint in footprints.items():  # after the rounds: what the workers came to hold
                added = footprint.added()
                if added is not None:
                    result.memory[n] = added / n / (1 << 20)
        return found

    def _estimate(self, counts: list[int]) -> float:
        return MIN_ROUNDS * self.serial_seconds * (1 + sum(1 / n for n in counts)) + 0.5 * len(counts)

    def _measure(self, result: ModelResult, counts: list[int], until: float) -> dict[int, list[float]] | None:
        if time.monotonic() + self._estimate(counts) > until:
            result.stopped = "the budget"
            return None
        found = self.step(result, counts, until)
        for n, values in found.items():
            result.rounds.setdefault(n, []).extend(values)
        self.say(
            f"  {result.model} w{','.join(map(str, counts))}: "
            + ", ".join(f"w{n} {stats.log_mean_interval(v)[0]:.2f}x" for n, v in found.items())
            + f"  ({time.monotonic() - self.start:.0f} s of {self.deadline - self.start:.0f})"
        )
        return found

    def sweep(self, model: str, until: float) -> ModelResult:
        """Double the worker count while throughput still rises, then refine between the two best."""
        check_sendable(model, self.tasks)
        result, top = ModelResult(model), limit(model, len(self.tasks), runtime.usable_cpus())
        first = [1, 2] if top >= 2 else [1]
        found = self._measure(result, first, until)
        if found is None:
            return result
        result.best = 2 if top >= 2 and rises(found[1], found[2]) else 1
        while result.best * 2 <= top and result.best == max(result.rounds):
            nxt = result.best * 2
            found = self._measure(result, [result.best, nxt], until)
            if found is None or not rises(found[result.best], found[nxt]):
                break
            result.best = nxt
        middle = result.best + result.best // 2
        if result.best >= 2 and middle <= top and middle not in result.rounds:
            found = self._measure(result, [result.best, middle], until)
            if found is not None and rises(found[result.best], found[middle]):
                result.best = middle
        result.stopped = result.stopped or "throughput stopped rising"
        return result

    def run(self, chosen: list[str]) -> list[ModelResult]:
        results = []
        for index, model in enumerate(chosen):
            share = (self.deadline - time.monotonic()) / (len(chosen) - index)
            results.append(self.sweep(model, time.monotonic() + share))
        return results


class _Footprint:
    """The memory a pool's workers hold (USS: their own pages): the new processes' USS, read after the
    rounds (a forked worker's pages become its own as it runs), plus what the lab's own process grew by
    when the pool started (threads, subinterpreters). None where /proc cannot tell."""

    def __init__(self) -> None:
        self.readable = memory.unavailable_reason() is None
        self.pids = set(proctree.descendants(os.getpid())) if self.readable else set()
        self.own = memory.process_memory(os.getpid())["uss"] if self.readable else 0

    def started(self) -> _Footprint:
        if self.readable:
            self.grown = max(0, memory.process_memory(os.getpid())["uss"] - self.own)
            self.pids = set(proctree.descendants(os.getpid())) - self.pids
        return self

    def added(self) -> float | None:
        if not self.readable:
            return None
        total = self.grown
        for pid in self.pids:
            with contextlib.suppress(OSError):  # a worker that ended meanwhile
                total += memory.process_memory(pid)["uss"]
        return float(total)


def decide(results: list[ModelResult]) -> dict[str, Any] | None:
    """The model and count with the highest speedup; when others tie with it (their speedups cannot
    be told apart), the tie is broken by a second measurement, the memory a worker adds (USS), where
    every member has one; every member of the tie is named."""
    measured = [r for r in results if r.rounds]
    if not measured:
        return None
    top = max(measured, key=lambda r: r.speedup(r.best)[0])
    group = [top]
    for other in measured:
        if other is not top:
            _, low, high = stats.ratio_interval(other.rounds[other.best], top.rounds[top.best])
            if not stats.told_apart(low, high):
                group.append(other)
    weighed = all(r.best in r.memory for r in group)
    chosen = min(group, key=lambda r: r.memory[r.best]) if weighed and len(group) > 1 else top
    workers = chosen.recommended
    value, low, high = chosen.speedup(workers)
    return {
        "model": chosen.model,
        "workers": workers,
        "speedup": value,
        "ci": [low, high],
        "ties": [{"model": r.model, "workers": r.best} for r in group if r is not chosen],
        "tie_break": None
        if chosen is top
        else "the least memory a worker adds: "
        + ", ".join(f"{r.model} {r.memory[r.best]:.1f} MiB" for r in group),
    }
