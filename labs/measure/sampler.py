"""Spend measuring effort where the noise is: add processes to a bench until its interval is tight.

The process is the sample. The driver starts one pyperf worker process at a time for a bench (pyperf's
``--worker`` mode, one run each, after a warm-up), and after each one asks whether the 95% interval of
the bench's quantity of interest is within ``precision`` of its value: the speedup over the serial
baseline timed in the same processes (paired), or else the mean time. It stops there, or at its
process or time cap, and records which, with the precision it reached, so a noisy bench is never
passed off as a quiet one.

Values shorter than a millisecond are sized up inside each process (``harness.calibrated``).
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from labs.analyse import estimates, stats
from labs.core.errors import RunTimeout
from labs.store import schema


@dataclass(frozen=True)
class Precision:
    """How hard to try: the interval's relative half-width sought, and the caps."""

    target: float = 0.02
    # Stopping once the interval is narrow picks samples whose spread happens to look small, so the
    # intervals of benches that stop early cover less than 95%: at 5 processes 93% in simulation, at 8
    # 94.5% or more, bursts included (tests/measure/test_coverage.py).
    min_processes: int = 8
    max_processes: int = 12
    max_seconds: float = 60.0
    values: int = 3
    warmups: int = 1
    # timed rounds a side-by-side process takes (labs.measure.arms), after one warm-up round: as many as
    # a one-bench process takes values. The process is the sample: more rounds narrow each process's
    # ratio a little, more processes narrow the interval and show the host's spread
    rounds: int = 3


@dataclass
class Sample:
    """The runs (one per process) of a bench, and of its paired baseline when it has one."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    baseline_runs: list[dict[str, Any]] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)  # the 1-minute load average around each process

    def process_means(self, runs: list[dict[str, Any]] | None = None) -> list[float]:
        return [statistics.fmean(run["values"]) for run in (self.runs if runs is None else runs)]

    def quantity(self) -> tuple[str, list[float]]:
        """("speedup", per-process logs of baseline/bench) when paired, else ("time", process means)."""
        if self.baseline_runs:
            pairs = zip(self.process_means(self.baseline_runs), self.process_means(), strict=True)
            return "speedup", [math.log(serial / bench) for serial, bench in pairs]
        return "time", self.process_means()


def relative_half_width(kind: str, samples: Sequence[float], level: float = 0.95) -> float:
    """The 95% interval's half-width relative to the value (inf with fewer than 2 processes)."""
    if len(samples) < 2:
        return math.inf
    half = estimates.t_half_width(samples, level)
    if kind == "speedup":  # samples are logs: the interval is [v e^-h, v e^h]
        return math.expm1(half)
    center = stats.mean(samples)
    return half / center if center > 0 else math.inf


class Sampler:
    """One bench's sample, grown one process at a time by ``step``, so that the driver can interleave
    the processes of several benches (labs.measure.driver): then a burst of host noise lands on a few
    processes of each bench instead of on all the processes of one.

    Its time cap counts the bench's own processes only (``spent``), wherever they ran in the run."""

    def __init__(
        self,
        measure_process: Callable[[], tuple[dict[str, Any], dict[str, Any] | None]],
        precision: Precision,
    ) -> None:
        self.measure_process, self.precision = measure_process, precision
        self.current, self.spent, self.last = Sample(), 0.0, 0.0
        self.facts: dict[str, Any] | None = None  # what the stopping rule saw, once it stopped

    @property
    def done(self) -> bool:
        return self.facts is not None

    def stop(self, why: str) -> None:
        self.current.loads.append(os.getloadavg()[0])
        self.facts = stopping_facts(self.current, self.precision, why)

    def step(self, deadline: float) -> bool:
        """Run one more process unless the bench is done; True once it is. Near *deadline* (the run's
        budget), a process that would not finish in the time the last one took is not started, and
        one cut off by the deadline is dropped while the processes before it stand (two at least)."""
        precision, count = self.precision, len(self.current.runs)
        if count >= 2 and self.spent + self.last > precision.max_seconds:
            self.stop("time cap")
        elif count >= 2 and time.monotonic() + self.last > deadline:
            self.stop("run budget")
        if self.done:
            return True
        started = time.monotonic()
        self.current.loads.append(os.getloadavg()[0])
        try:
            run, baseline = self.measure_process()
        except RunTimeout:
            if count < 2:
                raise
            self.stop("run budget" if time.monotonic() >= deadline else "time cap")
            return True
        self.last = time.monotonic() - started
        self.spent += self.last
        self.current.runs.append(run)
        if baseline is not None:
            self.current.baseline_runs.append(baseline)
        kind, samples = self.current.quantity()
        count += 1
        if count >= precision.min_processes and relative_half_width(kind, samples) <= precision.target:
            self.stop("precision reached")
        elif count >= precision.max_processes:
            self.stop("process cap")
        return self.done


def stopping_facts(current: Sample, precision: Precision, stop: str) -> dict[str, Any]:
    """What the stopping rule saw when *current* stopped, by their names in labs.store.schema."""
    kind, samples = current.quantity()
    reached = relative_half_width(kind, samples)
    means = current.process_means()
    spread = stats.stdev(means) / stats.mean(means) if len(means) > 1 and stats.mean(means) > 0 else 0.0
    return schema.checked(
        quantity=kind,
        precision_target=precision.target,
        precision_reached=round(reached, 5) if math.isfinite(reached) else "none",
        processes=len(current.runs),
        stop=stop,
        cv=round(spread, 5),
        load_min=round(min(current.loads), 2),
        load_median=round(statistics.median(current.loads), 2),
        load_max=round(max(current.loads), 2),
    )


def bimodal(values: Sequence[float]) -> bool:
    """Two clusters: the widest gap between sorted values exceeds a quarter of the median, with at
    least two values and a fifth of them on each side (a contaminated baseline looks like this)."""
    ordered = sorted(values)
    count = len(ordered)
    if count < 6:
        return False
    median = statistics.median(ordered)
    least = max(2, math.ceil(count / 5))
    gaps = [(ordered[i + 1] - ordered[i], i + 1) for i in range(least - 1, count - least)]
    widest, split = max(gaps)
    return median > 0 and widest > 0.25 * median and least <= split <= count - least
