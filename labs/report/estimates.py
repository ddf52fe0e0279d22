"""The numbers a report prints: estimates with their 95% intervals, sample sizes and plausibility checks.

Every interval comes from ``labs.analyse.estimates``, where the pyperf worker process is the sample
(t intervals on process means; paired per-process ratios when a bench timed its own serial baseline),
so the report and ``labs compare`` never disagree about a number. This module adds what only the
report needs: the physics check, and the geometric mean of several ratios with its interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from labs.analyse import estimates as analysed
from labs.analyse import stats
from labs.analyse.runs import Bench
from labs.core.limits import ONE_WORKER_BAND, PHYSICS_MARGIN

LEVEL = analysed.LEVEL
MAX_CV = 0.10  # values spread more than 10% around their mean
MIN_PROCESSES = 3  # fewer pyperf worker processes cannot show process-to-process variation
MAX_PROCESS_SPREAD = 0.10  # process means further apart than this: the process, not the value, varies
PRECISION_LIMIT = 0.05  # a 95% interval reaching further than ±5% from its value is marked imprecise


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float | None  # None: no interval (one process), *reason* says why
    high: float | None
    n: str  # pyperf processes x values per process, "3x3"
    reason: str = ""
    suspect: str = ""  # why the number cannot be physical; empty when it can
    unstable: str = ""  # why the benches behind it are shaky (spread, few processes); empty when not
    bench: str = ""  # the bench it describes, for a reader who hovers over it

    @property
    def usable(self) -> bool:
        return not self.suspect

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def imprecise(self) -> str:
        """Why this number is imprecise (its interval reaches beyond ±5%, or there is none); else empty."""
        if not self.has_interval:
            return "no interval"
        if not self.value:
            return ""
        reach = max(self.high / self.value - 1, 1 - self.low / self.value)  # type: ignore[operator]
        return f"interval ±{reach:.0%}" if reach > PRECISION_LIMIT else ""


def shaky(bench: Bench) -> dict[str, str]:
    """Why a bench's numbers are shaky (reason -> detail); empty when they are not."""
    found = {}
    cv = coefficient_of_variation(bench)
    if cv > MAX_CV:
        found["CV"] = f"CV {cv:.0%}"
    if len(bench.processes) < MIN_PROCESSES:
        found["few processes"] = f"{len(bench.processes)} process(es)"
    means = bench.process_means
    if len(means) > 1 and min(means) > 0 and max(means) / min(means) - 1 > MAX_PROCESS_SPREAD:
        found["processes disagree"] = f"process means {max(means) / min(means) - 1:.0%} apart"
    return found


def _unstable(*benches: Bench) -> str:
    return "; ".join(f"{b.name}: {', '.join(found.values())}" for b in benches if (found := shaky(b)))


def _from(found: analysed.Estimate, bench: Bench, *others: Bench) -> Estimate:
    """The report's estimate of *bench* (n and name), unstable when it or *others* are shaky."""
    unstable = _unstable(bench, *others)
    return Estimate(found.value, found.low, found.high, bench.shape, found.reason, "", unstable, bench.name)


def speedup(serial: Bench, bench: Bench) -> Estimate:
    """serial time / bench time (paired within processes when the bench timed its own baseline)."""
    return _from(analysed.speedup(serial, bench), bench, serial)


def time_ratio(base: Bench, other: Bench) -> Estimate:
    """mean(other) / mean(base) over process means, with its interval; n of *other*."""
    return _from(analysed.time_ratio(base, other), other, base)


def mean_interval(bench: Bench) -> Estimate:
    """The mean of process means with its t interval over processes. A time is positive: a symmetric
    t interval over 3 widely spread process means can reach below zero, so its low end stops at 0."""
    found = _from(analysed.mean_time(bench), bench)
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
        return Estimate(math.nan, None, None, "0x0", "no pairs")
    logs = [math.log(o.mean / b.mean) for b, o in pairs]
    value = math.exp(stats.mean(logs))
    n = min((bench for pair in pairs for bench in pair), key=lambda bench: len(bench.processes)).shape
    parts = []  # (variance of a side's log mean, its process count)
    for base, other in pairs:
        for bench in (base, other):
            means = bench.process_means
            if len(means) < 2:
                return Estimate(value, None, None, n, analysed.ONE_PROCESS)
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
    return a.metadata.get("lab_tasks") == b.metadata.get("lab_tasks")


def coefficient_of_variation(bench: Bench) -> float:
    return stats.stdev(bench.values) / bench.mean if bench.mean else math.nan
