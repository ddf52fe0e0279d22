"""Process-level estimates: a bench's mean time, a ratio of two benches, a speedup, each with its 95% CI.

The process is the sample. Values inside one pyperf worker process share its state, so pooling them
as if independent makes intervals far too narrow; every interval here is computed from process means
(per-process ratios for paired speedups), with n shown as "processes x values". A bench measured in a
single process (quick mode) has no between-process spread to estimate: its interval is None with that
reason, never a number made up from within-process values.

Intervals use Student's t on process means rather than a bootstrap over processes: with the 3-8
processes a run has, a percentile bootstrap over processes covers far less than it claims (simulated
on lognormal data: 75% at 3 processes, 84% at 5, 90% at 8, for a nominal 95%), while t covers ~95%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from labs.analyse import stats
from labs.analyse.runs import Bench, Run
from labs.plan.key import BenchKey

LEVEL = 0.95
ONE_PROCESS = "1 process: no between-process interval (quick mode?)"


MAX_CV = 0.10  # values spread more than 10% around their mean
MIN_PROCESSES = 3  # fewer pyperf worker processes cannot show process-to-process variation
MAX_PROCESS_SPREAD = 0.10  # process means further apart than this: the process, not the value, varies
PRECISION_LIMIT = 0.05  # a 95% interval reaching further than ±5% from its value is marked imprecise


@dataclass(frozen=True)
class Estimate:
    """A value, its interval (None when there is none, with *reason*), n and how it was computed; the
    report adds why it cannot be physical (*suspect*) and why its benches are shaky (*unstable*)."""

    value: float
    low: float | None
    high: float | None
    n: str  # processes x values, "3x3"; "3x3 / 4x3" for two benches measured apart
    method: str = ""  # "t on process means", "paired", "unpaired"
    reason: str = ""  # why low and high are None
    suspect: str = ""  # why the number cannot be physical; empty when it can
    unstable: str = ""  # why the benches behind it are shaky (spread, few processes); empty when not
    bench: str = ""  # the bench it describes, for a reader who hovers over it

    @property
    def ci(self) -> tuple[float, float] | None:
        return None if self.low is None or self.high is None else (self.low, self.high)

    @property
    def has_interval(self) -> bool:
        return self.ci is not None

    @property
    def usable(self) -> bool:
        return not self.suspect

    @property
    def imprecise(self) -> str:
        """Why this number is imprecise (its interval reaches beyond ±5%, or there is none); else empty."""
        if self.ci is None:
            return "no interval"
        if not self.value:
            return ""
        reach = max(self.ci[1] / self.value - 1, 1 - self.ci[0] / self.value)
        return f"interval ±{reach:.0%}" if reach > PRECISION_LIMIT else ""

    def __str__(self) -> str:
        if self.ci is None:
            return f"{self.value:.3g} (no interval: {self.reason}; n {self.n})"
        return f"{self.value:.3g} [{self.low:.3g}, {self.high:.3g}] (n {self.n}, {self.method})"


def coefficient_of_variation(bench: Bench) -> float:
    return stats.stdev(bench.values) / bench.mean if bench.mean else math.nan


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


def _judged(found: Estimate, bench: Bench, *others: Bench) -> Estimate:
    """*found* naming *bench*, unstable when it or *others* are shaky."""
    unstable = "; ".join(
        f"{b.name}: {', '.join(why.values())}" for b in (bench, *others) if (why := shaky(b))
    )
    return replace(found, unstable=unstable, bench=bench.name)


def t_half_width(values: Sequence[float], level: float = LEVEL) -> float:
    """The half-width of the t interval on the mean of *values* (two at least): every interval of a
    bench's quantity (a mean time, a paired log ratio) and the stopping rule's precision use it."""
    return stats.t_quantile(0.5 + level / 2.0, len(values) - 1) * stats.stdev(values) / math.sqrt(len(values))


def mean_time(bench: Bench, level: float = LEVEL) -> Estimate:
    return _judged(_mean_time(bench, level), bench)


def _mean_time(bench: Bench, level: float) -> Estimate:
    """The mean of process means with its t interval over processes."""
    means = bench.process_means
    value = stats.mean(means)
    if len(means) < 2:
        return Estimate(value, None, None, bench.shape, "t on process means", ONE_PROCESS)
    half = t_half_width(means, level)
    return Estimate(value, value - half, value + half, bench.shape, "t on process means")


def log_ratio_interval(
    base: Sequence[float], other: Sequence[float], level: float = LEVEL
) -> tuple[float, float] | None:
    """CI of mean(other) / mean(base) for two independent sets of process means (>= 2 each).

    Welch's interval on the log of the ratio (delta method): the two sides may have different spreads
    and process counts, and a ratio's interval is naturally asymmetric. None with fewer than 2 a side.
    """
    if len(base) < 2 or len(other) < 2:
        return None
    mean_base, mean_other = stats.mean(base), stats.mean(other)
    ratio = mean_other / mean_base
    var_base = stats.stdev(base) ** 2 / (len(base) * mean_base**2)
    var_other = stats.stdev(other) ** 2 / (len(other) * mean_other**2)
    if var_base + var_other == 0:
        return ratio, ratio
    df = (var_base + var_other) ** 2 / (var_base**2 / (len(base) - 1) + var_other**2 / (len(other) - 1))
    half = stats.t_quantile(0.5 + level / 2.0, df) * math.sqrt(var_base + var_other)
    return ratio * math.exp(-half), ratio * math.exp(half)


def time_ratio(base: Bench, other: Bench, level: float = LEVEL) -> Estimate:
    """mean(other) / mean(base) over process means, unpaired (the benches ran in different processes)."""
    return _judged(_time_ratio(base, other, level), other, base)


def side_by_side(base: Bench, other: Bench) -> bool:
    """Whether the two benches were timed in the same processes (arms of one side-by-side group,
    labs.measure.arms): run i of one and run i of the other came from the same process."""
    group = base.meta.group
    if group is None or other.meta.group != group:
        return False
    blocks = base.each_run(lambda m: m.block)
    return len(blocks) == len(base.processes) and blocks == other.each_run(lambda m: m.block)


def _time_ratio(base: Bench, other: Bench, level: float) -> Estimate:
    n = f"{base.shape} / {other.shape}"
    if min(base.process_means + other.process_means) <= 0:  # only non-time units may hold zeros
        value = other.mean / base.mean if base.mean > 0 else math.nan
        return Estimate(value, None, None, n, "unpaired", "a zero mean: no interval for the ratio")
    if side_by_side(base, other):  # drift between processes divides out
        logs = [math.log(o / b) for b, o in zip(base.process_means, other.process_means, strict=True)]
        value, n = math.exp(stats.mean(logs)), f"{other.shape} paired"
        if len(logs) < 2:
            return Estimate(value, None, None, n, "paired", ONE_PROCESS)
        half = t_half_width(logs, level)
        return Estimate(value, value * math.exp(-half), value * math.exp(half), n, "paired")
    value = other.mean / base.mean
    ci = log_ratio_interval(base.process_means, other.process_means, level)
    if ci is None:
        return Estimate(value, None, None, n, "unpaired", ONE_PROCESS)
    return Estimate(value, ci[0], ci[1], n, "unpaired")


def is_paired(serial: Bench, bench: Bench) -> bool:
    """Whether *bench* timed *serial* in its own processes: ``lab_paired_with`` names serial's key and
    both have the same number of processes (run i of one was measured in the same process as run i)."""
    named = bench.meta.paired_with
    if not isinstance(named, str) or serial.key is None:
        return False
    try:
        key = BenchKey.from_json(named)
    except (ValueError, KeyError, TypeError):
        return False
    if bench.meta.group is not None:  # an arm names the plain serial key: its group must be the same
        return key == serial.key and side_by_side(serial, bench)
    return key == serial.key and len(serial.processes) == len(bench.processes)


def paired_ratios(serial: Bench, bench: Bench) -> list[float]:
    """serial time / bench time within each process: the drift between processes divides out."""
    return [s / b for s, b in zip(serial.process_means, bench.process_means, strict=True)]


def speedup(serial: Bench, bench: Bench, level: float = LEVEL) -> Estimate:
    """serial time / bench time: the geometric mean of per-process ratios when the two were timed in
    the same processes (t interval on their logs), else the unpaired ratio of process means."""
    return _judged(_speedup(serial, bench, level), bench, serial)


def _speedup(serial: Bench, bench: Bench, level: float) -> Estimate:
    if not is_paired(serial, bench):
        inverse = _time_ratio(bench, serial, level)  # serial / bench
        return Estimate(inverse.value, inverse.low, inverse.high, inverse.n, "unpaired", inverse.reason)
    if min(serial.process_means + bench.process_means) <= 0:
        return _time_ratio(bench, serial, level)  # says why there is no interval
    ratios = paired_ratios(serial, bench)
    logs = [math.log(r) for r in ratios]
    value = math.exp(stats.mean(logs))
    n = f"{bench.shape} paired"
    if len(logs) < 2:
        return Estimate(value, None, None, n, "paired", ONE_PROCESS)
    half = t_half_width(logs, level)
    return Estimate(value, value * math.exp(-half), value * math.exp(half), n, "paired")


def baseline_of(bench: Bench, run: Run) -> Bench | None:
    """The serial bench *bench*'s speedup divides by: the paired baseline it names when the run has it,
    else the run's serial bench of the same workload (matrix benches only)."""
    named = bench.meta.paired_with
    by_key = run.by_key
    if isinstance(named, str):
        try:
            paired = by_key.get(BenchKey.from_json(named))
        except (ValueError, KeyError, TypeError):
            paired = None
        if paired is not None:
            return paired
    key = bench.key
    if key is None or key.suite != "matrix":
        return None
    return by_key.get(key.serial_baseline())
