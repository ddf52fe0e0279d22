"""Selection -> Plan: the benches to run on this runtime, and lines saying what was left out and why.

``plan`` is pure: what the runtime can do comes in as an ``Availability`` (the real registries by
default; a test passes a fixed one), so every planning rule is unit-tested without running anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from labs import workloads
from labs.core import limits
from labs.plan.key import BenchKey
from labs.plan.selection import Selection

JOB = "labs.measure.job"
ARMS = "labs.measure.arms"  # every arm of a CPU workload's sweep in the same processes
COSTS = "labs.measure.costs.job"
# The workload size each mode measures (a workload declares smoke, quick and default sizes).
ENGINES = ("dask", "celery")  # scale-out engines: each start is a cluster (seconds), measured after the core
# A CPU-bound job holds at least this many tasks per worker at as many workers as CPUs, whatever the mode's
# size: with fewer tasks than CPUs, a speedup measures the task count, not the model (16 CPUs, 8 tasks).
# Past the CPUs (oversubscribed) a worker gets fewer.
MIN_TASKS_PER_WORKER = 2
IO_FOCUS = 16  # the concurrency at which every I/O model is compared first
CORE_PAYLOADS = (1 << 10, 16 << 20)
LIGHT_IO_MODELS = ("threads", "asyncio")  # cheap to have hundreds of; the others cost a process each
MAX_HEAVY_IO_WORKERS = (
    64  # processes or interpreters per I/O bench: beyond this the box, not the model, is measured
)
MEMORY_MODELS = (
    "threads",
    "interpreters-pool",
    "interpreters-raw",
    "processes-fork",
    "processes-spawn",
    "processes-forkserver",
)
# I/O concurrency sweeps (light models, heavy models). download carries the full 1 .. 256 sweep; the
# other I/O workloads a short one; the mixed variants compare every model at one concurrency.
IO_SWEEP = {
    "download": {
        "quick": ((64,), (4,)),
        "default": ((1, 16, 256), (1, 16)),
        "rigorous": ((1, 4, 16, 64, 256), (1, 4, 16)),
    },
    "mixed": {"quick": ((8,), (8,)), "default": ((16,), (16,)), "rigorous": ((16, 64), (16,))},
    "other": {
        "quick": ((16,), (4,)),
        "default": ((1, 16), (1, 4)),
        "rigorous": ((1, 4, 16, 64), (1, 4, 16)),
    },
}


class Availability(Protocol):
    """Why this runtime cannot run something (None: it can)."""

    usable_cpus: int

    def model(self, name: str) -> str | None: ...
    def carrier(self, name: str, size: int) -> str | None: ...
    def memory(self) -> str | None: ...
    def rung(self, name: str) -> str | None: ...
    def carriers(self) -> Mapping[str, str]: ...  # name -> the model family it serves
    def rungs(self) -> Sequence[str]: ...
    def race_strategies(self) -> tuple[Sequence[str], Sequence[str]]: ...
    def transfer_sizes(self, quick: bool) -> Sequence[int]: ...


@dataclass(frozen=True)
class BenchSpec:
    """One bench: its key, the script that measures it, and that script's other ``--lab-*`` options."""

    key: BenchKey
    module: str = JOB
    options: tuple[str, ...] = ()
    timed: bool = True  # False: the script writes its own pyperf JSON (memory), without pyperf's timer
    paired: bool = False  # time the serial baseline in the same processes (CPU-bound speedups)
    tier: int = 3  # 0 first: when a run's --budget runs out, the highest tiers are what is skipped
    arms: tuple[BenchKey, ...] = ()  # measured side by side with *key* (the serial baseline) by ARMS

    @property
    def name(self) -> str:
        if self.arms:
            arms = f"{len(self.arms)} arm" + ("s" if len(self.arms) > 1 else "")
            return f"{self.key.workload}: serial and {arms} side by side"
        return self.key.name

    @property
    def keys(self) -> tuple[BenchKey, ...]:
        """Every bench this spec stores a result for."""
        return (self.key, *self.arms)


@dataclass(frozen=True)
class Plan:
    specs: tuple[BenchSpec, ...]
    notes: tuple[str, ...] = field(default=())


def default_worker_counts(usable: int) -> tuple[int, ...]:
    """1, 2, 4, ... up to the usable CPUs, the usable count itself, and twice it: the sweep goes past the
    CPUs so that oversubscription shows (1, 2, 4 on 2 CPUs)."""
    counts, n = [], 1
    while n < usable:
        counts.append(n)
        n *= 2
    return (*counts, usable, limits.OVERSUBSCRIBED * usable)


def io_counts(workload: str, model: str, mode: str) -> tuple[int, ...]:
    family = "mixed" if workload.startswith("mixed-") else workload if workload in IO_SWEEP else "other"
    light, heavy = IO_SWEEP[family][mode]
    return light if model in LIGHT_IO_MODELS else heavy


def _job(
    workload: str, model: str, pattern: str, workers: int, size: int, timeout: float, paired: bool, tier: int
) -> BenchSpec:
    key = BenchKey("matrix", workload, model, pattern, workers)
    options = ("--lab-size", str(size), "--lab-timeout", str(timeout))
    return BenchSpec(key, options=options, paired=paired, tier=tier)


def _tier(kind: str, model: str, pattern: str, workers: int, points: tuple[int, ...], at_cpus: int) -> int:
    """The core questions first. 0: each model's CPU-bound speedup at the CPU count (scaling,
    the GIL, free-threading, subinterpreters vs processes). 1: the I/O crossover at one concurrency,
    the scale-out engines' speedup, and the core costs (start-up, transfer, memory, races). 2: the
    rest of the CPU sweep. 3: the rest."""
    if pattern != "n-workers":
        return 3
    if kind == "cpu":
        top = 1 if model in ENGINES else 0  # an engine leaves the machine: not a first question on one
        return top if workers == (at_cpus if at_cpus in points else points[-1]) else 2
    return 1 if workers == IO_FOCUS or len(points) == 1 else 3


def _cpu_counts(selection: Selection, usable: int, notes: list[str]) -> tuple[int, ...]:
    if selection.workers is None:
        return default_worker_counts(usable)
    most = limits.OVERSUBSCRIBED * usable
    over = [n for n in selection.workers if n > most]
    if over:
        notes.append(
            f"workers {list(over)} exceed {limits.OVERSUBSCRIBED} x the {usable} usable CPU(s) here: left "
            "out of the CPU-bound benches (past that the box, not the model, is measured)"
        )
    return tuple(n for n in selection.workers if n <= most) or (usable,)


def _at_cpus(counts: tuple[int, ...], usable: int) -> int:
    """The count a one-point bench uses: the largest of the sweep that the CPUs can run at once."""
    return max((n for n in counts if n <= usable), default=counts[0])


def _io_sweep(selection: Selection, workload: str, model: str, notes: list[str]) -> tuple[int, ...]:
    if selection.workers is None:
        return io_counts(workload, model, selection.mode)
    if model in LIGHT_IO_MODELS:
        return selection.workers
    kept = tuple(n for n in selection.workers if n <= MAX_HEAVY_IO_WORKERS)
    if len(kept) < len(selection.workers):
        notes.append(
            f"{workload}/{model}: worker counts above {MAX_HEAVY_IO_WORKERS} left out (a process or "
            "interpreter each)"
        )
    return kept


def _matrix(
    selection: Selection, runnable: Sequence[str], counts: tuple[int, ...], usable: int, notes: list[str]
) -> list:
    specs: list[BenchSpec] = []
    at_cpus = _at_cpus(counts, usable)
    timeout, mode = selection.bench_timeout, selection.mode
    chosen = [workloads.get(name) for name in selection.workloads]
    raised: list[str] = []  # CPU workloads given more tasks than their mode's size (MIN_TASKS_PER_WORKER)
    for workload in [w for w in chosen if selection.kind in (None, w.kind)]:
        size = workload.sizes[mode]
        if workload.kind == "cpu" and size < MIN_TASKS_PER_WORKER * at_cpus:
            size = MIN_TASKS_PER_WORKER * at_cpus
            raised.append(workload.name)
        for model in runnable:
            if model == "serial":  # the reference has one worker and one way to run
                tier = 0 if workload.kind == "cpu" else 1
                specs.append(_job(workload.name, model, "n-workers", 1, size, timeout, False, tier))
                continue
            sweep = counts if workload.kind == "cpu" else _io_sweep(selection, workload.name, model, notes)
            for pattern in selection.patterns:
                # The full sweep is for n-workers (and --rigorous); other patterns get the top count.
                # I/O workloads keep to n-workers outside --rigorous: their sweep is long already.
                full = pattern == "n-workers" or mode == "rigorous"
                if workload.kind == "io" and not full:
                    continue
                # --quick keeps the top count of a default sweep; worker counts asked for all run.
                one = (at_cpus,) if workload.kind == "cpu" else sweep[-1:]
                points = sweep if full and (mode != "quick" or selection.workers) else one
                # I/O: enough tasks to keep every worker busy; its figure of merit is requests/s, so no
                # serial baseline is paired (a serial 256-request job would take most of the time).
                cpu = workload.kind == "cpu"
                specs += [
                    _job(
                        workload.name, model, pattern, n, size if cpu else max(size, n), timeout, cpu,
                        _tier(workload.kind, model, pattern, n, points, at_cpus),
                    )
                    for n in points
                ]  # fmt: skip
    specs = _side_by_side(specs)
    if raised:
        per = MIN_TASKS_PER_WORKER
        notes.append(
            f"{', '.join(raised)}: {per * at_cpus} tasks a job, {per} per worker at {at_cpus} workers"
        )
    specs += _capacity(selection, [w.name for w in chosen], runnable)
    if selection.startup:
        for model in [m for m in runnable if m != "serial"]:
            specs += [
                BenchSpec(BenchKey("startup", model=model, workers=n), tier=1 if n == at_cpus else 3)
                for n in dict.fromkeys((1, at_cpus))
            ]
    return specs


def _capacity(selection: Selection, chosen: Sequence[str], runnable: Sequence[str]) -> list[BenchSpec]:
    """The server's own capacity: the fastest client at the top concurrency, no added latency."""
    if "download" not in chosen or selection.kind not in (None, "io") or "asyncio" not in runnable:
        return []
    top = (selection.workers or io_counts("download", "asyncio", selection.mode))[-1]
    key = BenchKey("capacity", "download", "asyncio", "n-workers", top)
    size, timeout = str(max(4 * top, 256)), str(selection.bench_timeout)
    options = ("--lab-size", size, "--lab-timeout", timeout, "--lab-latency-ms", "0")
    return [BenchSpec(key, options=options, tier=1)]


def _side_by_side(specs: list[BenchSpec]) -> list[BenchSpec]:
    """A CPU workload's n-workers sweep as one spec whose processes time every arm (labs.measure.arms):
    the serial baseline and each model x worker count, side by side. The scale-out engines keep a bench
    of their own (a cluster each), the serial baseline paired in its processes."""
    grouped: dict[str, list[BenchSpec]] = {}
    for spec in specs:
        key = spec.key
        if spec.module == JOB and spec.paired and key.pattern == "n-workers" and key.model not in ENGINES:
            grouped.setdefault(key.workload, []).append(spec)
    kept = []
    for spec in specs:
        key = spec.key
        members = grouped.get(key.workload, [])
        if key.model == "serial" and members and spec.module == JOB:
            arms = tuple(member.key for member in members)
            kept.append(BenchSpec(key, ARMS, spec.options, paired=True, tier=0, arms=arms))
        elif spec not in members:
            kept.append(spec)
    return kept


def _serves(family: str, models: Sequence[str]) -> bool:
    """Whether a cost of *family* ("threads", "processes", "dask") belongs to one of *models*."""
    return any(model == family or model.startswith(family + "-") for model in models)


def _costs(selection: Selection, available: Availability, top: int, notes: list[str]) -> list[BenchSpec]:
    """The costs of the models selected (-m limits them as it limits the matrix); the ladder's rungs
    are the machine's, whatever the models."""
    chosen = selection.models
    specs = [
        BenchSpec(BenchKey("startup", model="asyncio-task", workers=n), COSTS)
        for n in (dict.fromkeys((1, top)) if "asyncio" in chosen else ())
    ]
    sizes = selection.payload_sizes or available.transfer_sizes(quick=selection.mode == "quick")
    for carrier, family in available.carriers().items():
        if not _serves(family, chosen):
            continue
        reasons = {size: available.carrier(carrier, size) for size in sizes}
        if len(set(reasons.values())) == 1 and None not in reasons.values():  # one reason: one note
            notes.append(f"transfer/{carrier} skipped: {reasons[sizes[0]]}")
            continue
        for size, why in reasons.items():
            key = BenchKey("transfer", subject=carrier, params=(("bytes", str(size)),))
            if why:
                notes.append(f"{key.name} skipped: {why}")
            else:  # a small and a large payload answer "what does a carrier cost" first
                # (a task carrier: the trivial task's round trip, 1 B)
                core = (1,) if carrier.startswith("task-") else CORE_PAYLOADS
                specs.append(BenchSpec(key, COSTS, tier=1 if size in core else 3))
    for model in [m for m in MEMORY_MODELS if m in chosen]:
        key = BenchKey("memory", model=model, workers=top)
        why = available.memory() or available.model(model)
        if why:
            notes.append(f"memory/{model} skipped: {why}")
        else:
            specs.append(BenchSpec(key, COSTS, timed=False, tier=1))
    for rung in available.rungs():
        why = available.rung(rung)
        if why:
            notes.append(f"ladder/{rung} skipped: {why}")
        else:
            specs.append(BenchSpec(BenchKey("ladder", subject=rung), COSTS))
    increments = "100000" if selection.mode == "quick" else "1000000"
    thread_strategies, async_strategies = available.race_strategies()
    for strategy in thread_strategies if "threads" in chosen else ():
        key = BenchKey("race", subject=strategy, workers=max(2, top))
        specs.append(BenchSpec(key, COSTS, ("--lab-increments", increments), tier=1))
    for strategy in async_strategies if "asyncio" in chosen else ():
        specs.append(
            BenchSpec(
                BenchKey("race", subject=strategy, workers=100), COSTS, ("--lab-increments", "1"), tier=1
            )
        )
    return specs


def plan(selection: Selection, available: Availability) -> Plan:
    """The benches *selection* asks for that this runtime can run, in the order they are measured."""
    notes: list[str] = []
    counts = _cpu_counts(selection, available.usable_cpus, notes)
    runnable = []
    for name in selection.models:
        why = available.model(name)
        if why:
            notes.append(f"model {name} skipped: {why}")
        else:
            runnable.append(name)
    specs: list[BenchSpec] = []
    if "matrix" in selection.suites:
        specs += _matrix(selection, runnable, counts, available.usable_cpus, notes)
    if "costs" in selection.suites:
        specs += _costs(selection, available, _at_cpus(counts, available.usable_cpus), notes)
    specs.sort(key=lambda spec: spec.tier)  # stable: within a tier, the order above
    return Plan(tuple(specs), tuple(_folded(notes)))


def _folded(notes: list[str]) -> list[str]:
    """One line per reason: "model dask, transfer/task-dask skipped: dask is not installed"."""
    skipped: dict[str, list[str]] = {}
    lines: list[str | None] = []
    for note in notes:
        what, sep, why = note.partition(" skipped: ")
        if not sep:
            lines.append(note)
            continue
        if why not in skipped:
            lines.append(None)  # the place of the folded line
            skipped[why] = []
        skipped[why].append(what)
    folded = iter(f"{', '.join(whats)} skipped: {why}" for why, whats in skipped.items())
    return [line if line is not None else next(folded) for line in lines]
