"""Neighbouring benches take turns, process by process, in a seeded random order.

A bench's processes are its sample (labs.measure.sampler). Run one bench's processes back to back and
a burst of host noise (a co-tenant on the other core for twenty seconds) lands on every one of them:
the bench looks precise and is wrong, and between two runs of the same code it passes for a change.
Run INTERLEAVE benches at once, one process of each in turn, and the same burst lands on a few
processes of several benches, where each bench's interval sees it. The order of each round is drawn
from a seeded generator; the seed is kept in the run's record.

Each bench keeps its own rules: it stops at its precision or its caps, its --bench-timeout counts its
own processes' time only, a suspect bench is measured again from scratch (later in the same batch),
and a bench that fails ends alone. When the run's budget runs out, or a stop signal comes, every bench
under way is kept with what it has (two processes at least; ``lab_stop`` says why), or skipped.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labs.analyse import estimates
from labs.analyse.text import format_time
from labs.core import runtime
from labs.core.errors import RunError
from labs.measure import bench, group, together
from labs.plan.matrix import BenchSpec
from labs.plan.selection import Selection
from labs.store import journal

INTERLEAVE = 6  # benches whose processes take turns: about a minute of processes a round here
# How far into a run's --budget (a share of it, from the run's start) each tier may measure while benches
# of a later tier wait: a budget too short for everything still reaches the I/O crossover and the core
# costs (tier 1) instead of spending itself on the CPU sweeps (tier 0) alone. Time a tier leaves unused
# goes to the next.
TIER_SHARES = {0: 0.5, 1: 0.85}


@dataclass
class Pending:
    """A bench whose processes are under way."""

    index: int  # its place in the plan, for the progress line
    spec: BenchSpec
    measurement: bench.Measurement
    sampling: bench.Sampling | group.GroupSampling
    spent: float = 0.0  # seconds of its own processes: its --bench-timeout counts these alone
    began: float = field(default_factory=time.monotonic)


def batches(specs: Sequence[BenchSpec], size: int) -> Iterator[list[tuple[int, BenchSpec]]]:
    """Consecutive timed benches of one tier, *size* at a time (so the budget goes to the core
    questions first, as the plan orders them); a bench that times itself (memory) alone, and a
    side-by-side group alone: its arms share each process, so the host's drift between processes
    divides out of every ratio it states without interleaving, and a budget too short for every group
    ends with some groups measured well instead of every group measured in two processes."""
    batch: list[tuple[int, BenchSpec]] = []
    for index, spec in enumerate(specs, 1):
        if batch and spec.tier != batch[-1][1].tier:
            yield batch
            batch = []
        if not spec.timed or spec.arms:
            if batch:
                yield batch
            yield [(index, spec)]
            batch = []
            continue
        batch.append((index, spec))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Turns:
    """Measures batches of benches for one run, journaling each bench the moment it ends."""

    def __init__(
        self,
        selection: Selection,
        machine: str,
        log: journal.Journal,
        budget_end: float,
        seed: int,
        total: int,
        gate: together.Gate | None = None,
        last_tier: int = 0,
    ) -> None:
        self.selection, self.machine, self.log, self.budget_end = selection, machine, log, budget_end
        self.last_tier, self.batch_end = last_tier, budget_end
        self.order, self.total, self.ended, self.start = random.Random(seed), total, 0, time.monotonic()
        self.pending: list[Pending] = []
        self.group_process = 0.0  # wall seconds a process of the last side-by-side group took, on average
        self.gate = gate or together.Gate(None)  # runtimes side by side: each process waits for its turn
        self.label = f"{runtime.tag()} " if gate is not None and gate.alternating is not None else ""

    def tier_end(self, tier: int) -> float:
        """When the benches of *tier* must end: their share of the budget while a later tier waits."""
        share = TIER_SHARES.get(tier, 1.0) if tier < self.last_tier else 1.0
        return min(self.budget_end, self.start + share * (self.budget_end - self.start))

    def measure(self, batch: list[tuple[int, BenchSpec]], workdir: Path) -> None:
        self.batch_end = self.tier_end(batch[0][1].tier)
        for index, spec in batch:
            if time.monotonic() >= self.budget_end:
                self._skip(spec, "the run's --budget was spent")
                continue
            if (
                spec.arms
                and self.group_process
                and self.batch_end - time.monotonic() < (estimates.MIN_PROCESSES * self.group_process)
            ):  # it would end with fewer processes than a finding needs: leave the time to the next tier
                self._skip(
                    spec,
                    f"{estimates.MIN_PROCESSES} processes of a group (about {self.group_process:.0f} s each "
                    "here, turns included) no longer fit in this tier's share of the --budget",
                )
                continue
            measurement = bench.Measurement(spec, self.machine, workdir, self.budget_end)
            sampling = (group.GroupSampling if spec.arms else bench.Sampling)(
                measurement, self.selection.mode
            )
            self.pending.append(Pending(index, spec, measurement, sampling))
        while self.pending:
            if time.monotonic() >= self.batch_end:
                self.end_all("run budget" if self.batch_end == self.budget_end else "budget share")
                return
            for item in self.order.sample(self.pending, len(self.pending)):
                with self.gate.turn():
                    ended = self._turn(item)
                if ended:
                    self.pending.remove(item)

    def _turn(self, item: Pending) -> bool:
        """One more process of *item* (a bench that times itself: all of it); True once it ended."""
        # --bench-timeout is a bench's: a side-by-side group holds several
        started, timeout = time.monotonic(), self.selection.bench_timeout * len(item.spec.keys)
        left = timeout - item.spent
        item.measurement.deadline = min(started + left, self.batch_end)
        item.measurement.deadline_says = (
            self._ran_out
            if started + left > self.batch_end
            else f"timed out after {timeout:g} s"
            + (f" ({len(item.spec.keys)} benches side by side)" if item.spec.arms else "")
        )
        try:
            if item.spec.timed:
                ended = item.sampling.step(self.batch_end)
                result = item.sampling.result() if ended else None
            else:
                ended, result = True, bench.measure_self_timed(item.measurement)
        except RunError as exc:
            if item.measurement.deadline == self.batch_end and time.monotonic() >= self.batch_end:
                # Stopped by the budget, not by a fault of its own: skipped and named, like the benches
                # after it, and no reason for the run to end in failure.
                self._skip(item.spec, f"{self._ran_out} while it was measured")
                self._say(item, f"skipped: {self._ran_out}")
            else:
                for key in item.spec.keys:
                    self.log.fail(key.name, str(exc))
                self._say(item, f"FAILED: {exc}")
            return True
        finally:
            item.spent += time.monotonic() - started
        if result is not None:
            self._keep(item, *result)
        if ended and isinstance(item.sampling, group.GroupSampling) and item.sampling.processes:
            # wall time, turns of the other runtimes side by side included: what the next group will take
            self.group_process = (time.monotonic() - item.began) / item.sampling.processes
        return ended

    @property
    def _ran_out(self) -> str:
        if self.batch_end == self.budget_end:
            return "the run's --budget ran out"
        return "its tier's share of the --budget ran out (later questions wait)"

    def _keep(self, item: Pending, benches: list[dict[str, Any]], version: str) -> None:
        self.log.add(benches, version)
        failed = getattr(item.sampling, "failed", {})
        for name, reason in failed.items():
            self.log.fail(name, reason)
        if item.spec.arms:
            speedups = _side_by_side_summary(benches)
            outcome = f"{len(benches) - 1} arms and serial in {item.sampling.processes} processes; {speedups}"
            outcome += f"; {len(failed)} arms failed" if failed else ""
        else:
            outcome = "; ".join(_summary(b) for b in benches)
        self._say(item, outcome)

    def _skip(self, spec: BenchSpec, reason: str) -> None:
        for key in spec.keys:
            self.log.skip(key.name, reason)

    def end_all(self, why: str) -> None:
        """End every bench under way: kept with what it has (two processes at least), else skipped."""
        kept = {benchmark["metadata"].get("name") for benchmark in self.log.benchmarks}
        for item in self.pending:
            if item.spec.key.name in kept:  # a stop signal came just after it was kept
                continue
            if item.sampling.done or item.sampling.stop(why):
                self._keep(item, *item.sampling.result())
            elif why in ("run budget", "budget share"):
                self._skip(item.spec, f"{self._ran_out} while it was measured")
        self.pending.clear()

    def _say(self, item: Pending, outcome: str) -> None:
        self.ended += 1
        now = time.monotonic()
        elapsed = now - self.start
        eta = elapsed / self.ended * (self.total - self.ended)
        # The run ends at its budget whatever is left: past it, the rest is skipped and named.
        left = f"ETA {_duration(eta)}"
        if self.budget_end - now < eta:
            left = f"the budget ends in {_duration(max(0.0, self.budget_end - now))}; the rest: skipped"
        progress = f"{_duration(elapsed)} elapsed, {left}"
        print(
            f"[{self.label}{item.index}/{self.total}] {item.spec.name}: {outcome}  ({progress})", flush=True
        )


def _summary(benchmark: dict[str, Any]) -> str:
    values = [v for run in benchmark.get("runs", []) for v in run.get("values", [])]
    if not values:
        return "no values"
    mean = sum(values) / len(values)
    if benchmark.get("metadata", {}).get("unit") == "byte":
        return f"{mean / (1 << 20):.2f} MiB mean of {len(values)}"
    return f"{format_time(mean)} mean of {len(values)}"


def _side_by_side_summary(benches: list[dict[str, Any]]) -> str:
    """The fastest arms' speedups over the serial baseline of the same processes (the top three)."""
    by_name = {b["metadata"]["name"]: b for b in benches}
    serial = benches[0]
    found = []
    for name, measured in by_name.items():
        if measured is serial:
            continue
        pairs = zip(_process_means(serial), _process_means(measured), strict=False)
        ratios = [s / m for s, m in pairs if m > 0]
        if ratios:
            found.append(
                (statistics.geometric_mean(ratios), name.split("/n-workers/")[0].split("/", 1)[-1], name)
            )
    best = sorted(found, reverse=True)[:3]
    return "best " + ", ".join(
        f"{model} {name.rsplit('/', 1)[-1]} {value:.2f}x" for value, model, name in best
    )


def _process_means(benchmark: dict[str, Any]) -> list[float]:
    return [statistics.fmean(run["values"]) for run in benchmark.get("runs", []) if run.get("values")]


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s"
