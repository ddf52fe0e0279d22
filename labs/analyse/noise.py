"""A machine's noise profile: how far the same code's results move from one run to the next.

A run's 95% intervals describe that run: its processes around their own mean. A rerun of the same code
on the same machine moves further than that, because the host's speed drifts between runs (co-tenants,
frequency, the page cache), and the drift is in every process of a run alike. Any interval on a quantity
that compares two runs not measured side by side must include it.

The profile is learned from this machine's own same-code repeats: runs of one runtime made by the same
clean commit of the lab, in different sessions, with benches of the same key and job size. For each such
bench the between-run variance beyond the within-run one is estimated by DerSimonian and Laird's
method of moments on the log of the run's quantity: tau^2 = max(0, (Q - (k - 1)) / (S1 - S2 / S1)),
with Q the weighted sum of squares around the weighted mean, weights 1 / (within-run variance), S1 and
S2 the sums of the weights and of their squares. The profile is the root of the mean tau^2 over
benches, separately for times and for paired speedups (the drift that a speedup divides out is most of
it). With no repeats the profile is a stated conservative default, read from this lab's own A/A runs
on a noisy 2-core host: between-run SD 4.2-5.8% for a serial time, 1.7-3.9% for a 2-worker speedup.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from labs.analyse import estimates, hosts, stats
from labs.analyse.runs import Bench, Run

DEFAULT_TIME, DEFAULT_SPEEDUP = 0.06, 0.04  # log-scale SDs, above every A/A figure measured here
FILE = "noise.json"  # results/<machine>/noise.json, written with the report
MAX_DF = 1000.0  # where the known drift dominates, Student's t is the normal distribution


@dataclass(frozen=True)
class Profile:
    """Between-run SDs on the log scale (0.05: a rerun moves about 5%), and where they come from."""

    time: float
    speedup: float
    benches: int  # benches with same-code repeats behind the figures (0: the default)
    repeats: int  # (bench, session) measurements those benches hold
    source: str

    def describe(self) -> str:
        between = f"between-run SD {self.time:.1%} for a time, {self.speedup:.1%} for a paired speedup"
        return f"{between} ({self.source})"


DEFAULT = Profile(
    DEFAULT_TIME,
    DEFAULT_SPEEDUP,
    0,
    0,
    "a stated conservative default: this machine has no same-code repeats yet (two default runs of one "
    "clean commit in two sessions teach it)",
)


def _code(run: Run) -> tuple[str, str] | None:
    """(runtime tag, commit) when the run says a clean commit made it, else None: unknown code."""
    made = run.record.get("source")
    if not isinstance(made, dict) or not made.get("commit") or made.get("dirty") is not False:
        return None
    return str(run.record.get("runtime", {}).get("tag") or run.tag), str(made["commit"])


def between_run_variance(values: list[tuple[float, float]]) -> float | None:
    """DerSimonian-Laird tau^2 from (log estimate, within-run variance) pairs, two at least; None when a
    within-run variance is zero or missing (nothing to weigh by)."""
    if len(values) < 2 or any(not (v > 0) for _, v in values):
        return None
    weights = [1 / v for _, v in values]
    s1, s2 = sum(weights), sum(w * w for w in weights)
    centre = sum(w * y for w, (y, _) in zip(weights, values, strict=True)) / s1
    q = sum(w * (y - centre) ** 2 for w, (y, _) in zip(weights, values, strict=True))
    return max(0.0, (q - (len(values) - 1)) / (s1 - s2 / s1))


def _log_time(bench: Bench) -> tuple[float, float] | None:
    means = bench.process_means
    if len(means) < 2 or min(means) <= 0:
        return None
    centre = stats.mean(means)
    return math.log(centre), (stats.stdev(means) / centre) ** 2 / len(means)


def _log_speedup(serial: Bench, bench: Bench) -> tuple[float, float] | None:
    if not estimates.is_paired(serial, bench) or min(serial.process_means + bench.process_means) <= 0:
        return None
    logs = [math.log(r) for r in estimates.paired_ratios(serial, bench)]
    if len(logs) < 2:
        return None
    return stats.mean(logs), stats.stdev(logs) ** 2 / len(logs)


def learn(runs: list[Run]) -> Profile:
    """The profile of the machine whose runs these are (one host's), or DEFAULT without repeats."""
    times: dict[tuple[Any, ...], dict[str, tuple[float, float]]] = {}
    speedups: dict[tuple[Any, ...], dict[str, tuple[float, float]]] = {}
    for run in runs:
        code = _code(run)
        if code is None:
            continue
        by_key = run.by_key
        for key, bench in by_key.items():
            identity = (*code, key, bench.meta.tasks)
            found = _log_time(bench)
            if found is not None:
                times.setdefault(identity, {})[hosts.session_id(run)] = found
            serial = by_key.get(key.paired_baseline()) or by_key.get(key.serial_baseline())
            paired = _log_speedup(serial, bench) if serial is not None and serial is not bench else None
            if paired is not None:
                speedups.setdefault(identity, {})[hosts.session_id(run)] = paired
    tau_time = [t for t in (between_run_variance(list(v.values())) for v in times.values()) if t is not None]
    tau_speed = [
        t for t in (between_run_variance(list(v.values())) for v in speedups.values()) if t is not None
    ]
    if not tau_time:
        return DEFAULT
    repeats = sum(len(v) for v in times.values() if len(v) > 1)
    return Profile(
        round(math.sqrt(stats.mean(tau_time)), 4),
        round(math.sqrt(stats.mean(tau_speed)), 4) if tau_speed else DEFAULT_SPEEDUP,
        len(tau_time),
        repeats,
        f"learned from {len(tau_time)} benches measured again by the same clean commit in another session",
    )


def widened(found: estimates.Estimate, tau: float) -> estimates.Estimate:
    """*found*, a ratio of two runs measured apart in time, with their drift added: the log half-width
    becomes sqrt(h^2 + (1.96 sqrt(2) tau)^2), each run's drift independent (normal quantile: tau is
    known, not estimated from these runs)."""
    if tau <= 0 or found.low is None or found.high is None or found.value <= 0 or found.low <= 0:
        return found
    half = max(math.log(found.high / found.value), math.log(found.value / found.low))
    wider = math.hypot(half, 1.959964 * math.sqrt(2) * tau)
    return replace(
        found,
        low=found.value * math.exp(-wider),
        high=found.value * math.exp(wider),
        method=f"{found.method}, + between-run drift {tau:.1%}",
    )


def write(folder: Path, profile: Profile) -> Path:
    """results/<machine>/noise.json: the profile the report and compare used."""
    path = folder / FILE
    path.write_text(json.dumps(asdict(profile), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class DriftTest:
    """Two runs' process means compared with the host's drift between them counted: Welch's t on the
    log of the ratio, its variance the two sides' within-run ones plus 2 tau^2 (each run's drift), its
    degrees of freedom Welch-Satterthwaite's with tau taken as known (only the within-run parts are
    estimated). The same
    interface as PermutationTest, so compare's false-discovery control and its intervals work alike;
    the interval is the same t inverted, so it excludes 1 exactly when p <= alpha."""

    log_ratio: float
    variance: float
    df: float
    exact: bool = True  # analytic, nothing sampled

    @classmethod
    def of(cls, base: list[float], other: list[float], tau: float) -> DriftTest:
        mean_base, mean_other = stats.mean(base), stats.mean(other)
        within = [stats.stdev(side) ** 2 / (len(side) * stats.mean(side) ** 2) for side in (base, other)]
        variance = sum(within) + 2 * tau**2  # the known drift adds variance, no uncertainty of its own
        df = (
            variance**2 / sum(v**2 / (len(side) - 1) for v, side in zip(within, (base, other), strict=True))
            if sum(within) > 0
            else MAX_DF
        )
        return cls(math.log(mean_other / mean_base), variance, min(max(df, 1.0), MAX_DF))

    @property
    def ratio(self) -> float:
        return math.exp(self.log_ratio)

    @property
    def smallest_p(self) -> float:
        return 0.0

    def p_value(self) -> float:
        if self.variance <= 0:
            return 0.0 if self.log_ratio else 1.0
        return min(1.0, 2 * stats.t_sf(abs(self.log_ratio) / math.sqrt(self.variance), self.df))

    def interval(self, alpha: float, rejects_one: bool) -> tuple[float, float]:
        half = stats.t_quantile(1 - alpha / 2, self.df) * math.sqrt(self.variance)
        return math.exp(self.log_ratio - half), math.exp(self.log_ratio + half)
