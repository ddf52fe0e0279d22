"""The numbers a report prints: estimates with their 95% intervals, sample sizes and plausibility checks.

Every interval comes from ``labs.analyse.estimates``, where the pyperf worker process is the sample
(t intervals on process means; paired per-process ratios when a bench timed its own serial baseline),
so the report and ``labs compare`` never disagree about a number. This module adds what only the
report needs: the physics check, rates, times that stop at zero, and the geometric mean of several
ratios with its interval.
"""

from __future__ import annotations

import math
from dataclasses import replace

from labs.analyse import estimates as analysed
from labs.analyse import stats
from labs.analyse.estimates import Estimate
from labs.analyse.runs import Bench
from labs.core.limits import ONE_WORKER_BAND, PHYSICS_MARGIN

LEVEL = analysed.LEVEL


def mean_interval(bench: Bench) -> Estimate:
    """The mean of process means with its t interval over processes. A time is positive: a symmetric
    t interval over 3 widely spread process means can reach below zero, so its low end stops at 0."""
    found = analysed.mean_time(bench)
    return found if found.low is None else replace(found, low=max(0.0, found.low))


def rate(bench: Bench, tasks: int) -> Estimate:
    """Tasks per second, *tasks* / mean job time, with the time's interval turned over."""
    time = mean_interval(bench)
    low = tasks / time.high if time.high else None
    high = tasks / time.low if time.low else None
    interval = (low, high) if low is not None and high is not None else (None, None)
    return replace(time, value=tasks / time.value, low=interval[0], high=interval[1])


def geometric_mean(pairs: list[tuple[Bench, Bench]]) -> Estimate:
    """Geometric mean of mean(other) / mean(base) over *pairs*, with a t interval on its log.

    log G is the mean of the k log ratios; each log ratio's variance is the delta-method one that
    ``labs.analyse.estimates.log_ratio_interval`` uses, so Var(log G) = sum / k^2, with Welch-
    Satterthwaite degrees of freedom. No interval when any bench has fewer than 2 processes.
    """
    if not pairs:
        return Estimate(math.nan, None, None, "0x0", reason="no pairs")
    logs = [math.log(o.mean / b.mean) for b, o in pairs]
    value = math.exp(stats.mean(logs))
    n = min((bench for pair in pairs for bench in pair), key=lambda bench: len(bench.processes)).shape
    parts = []  # (variance of a side's log mean, its process count)
    for base, other in pairs:
        for bench in (base, other):
            means = bench.process_means
            if len(means) < 2:
                return Estimate(value, None, None, n, reason=analysed.ONE_PROCESS)
            parts.append((stats.stdev(means) ** 2 / (len(means) * stats.mean(means) ** 2), len(means)))
    variance = sum(v for v, _ in parts) / len(pairs) ** 2
    if variance == 0:
        return Estimate(value, value, value, n)
    df = sum(v for v, _ in parts) ** 2 / sum(v * v / (count - 1) for v, count in parts if v)
    half = stats.t_quantile(0.5 + LEVEL / 2.0, df) * math.sqrt(variance)
    return Estimate(value, value * math.exp(-half), value * math.exp(half), n)


def check_physics(estimate: Estimate, workers: int, usable_cpus: int) -> Estimate:
    """*estimate* flagged when a CPU-bound speedup cannot be real: above the usable CPUs (with a 10%
    margin), or at one worker with its whole interval outside [0.9, 1.1]."""
    low_band, high_band = ONE_WORKER_BAND
    if estimate.value > usable_cpus * PHYSICS_MARGIN:
        return replace(estimate, suspect=f"above {usable_cpus} usable CPUs × {PHYSICS_MARGIN}")
    if workers == 1 and estimate.has_interval:
        assert estimate.low is not None and estimate.high is not None
        if estimate.high < low_band or estimate.low > high_band:
            return replace(estimate, suspect=f"one worker, interval outside [{low_band}, {high_band}]")
    return estimate


def comparable(a: Bench, b: Bench) -> bool:
    """Same task count: jobs of different sizes are never divided by each other."""
    return a.meta.tasks == b.meta.tasks
