"""Best model per workload and runtime, never a suspect number; Amdahl's fit only where it means something.

The choice made here is the one the decision summary prints: both call ``choose``, so the summary's
numbers are this table's numbers by construction (and a test checks that they are).
"""

from __future__ import annotations

from dataclasses import dataclass

from labs.analyse import estimates as analysed
from labs.analyse import stats
from labs.analyse.estimates import Estimate
from labs.analyse.runs import Bench
from labs.plan.key import BenchKey
from labs.plan.matrix import ENGINES
from labs.report import markdown
from labs.report.section import Section, section
from labs.report.view import MachineView, RuntimeView

TITLE = "Best model per workload and runtime"
MIN_COUNTS = 3  # two points fit any Amdahl fraction exactly; a recommendation needs a curve
KINDS = {"cpu": "CPU-bound", "io": "I/O-bound"}
HEADER = [
    "runtime",
    "workload",
    "best",
    "speedup",
    "suspect passed over",
    "recommended",
    "Amdahl s",
    "runner-up (another model)",
    "runner-up time / best time",
]


@dataclass(frozen=True)
class Choice:
    """The fastest plausible bench of one workload on one runtime, and the fastest of another model."""

    key: BenchKey
    speedup: Estimate
    skipped: int  # faster benches passed over because their speedup is suspect
    runner_up: BenchKey | None
    runner_up_speedup: Estimate | None
    behind: Estimate | None  # runner-up's mean job time / the best's, with its interval
    ties: tuple[BenchKey, ...] = ()  # other models' fastest benches that cannot be told apart from it
    quick: bool = False  # from a --quick run: one process a bench, nothing to recommend

    @property
    def use(self) -> str:
        if self.quick:
            return f"– (a --quick run recommends nothing; fastest seen: {_option(self.key)})"
        if self.key.model == "serial" and self.runner_up is None:
            return "– (serial only: no other model measured)"
        if self.ties:
            return "tie: " + ", ".join(_option(key) for key in (self.key, *self.ties))
        return _option(self.key)

    @property
    def runner_up_text(self) -> str:
        if self.runner_up is None or self.runner_up_speedup is None:
            return "– (no other model)"
        key = self.runner_up
        return f"{key.model} / {key.pattern} / w{key.workers}: {markdown.times(self.runner_up_speedup)}"

    @property
    def behind_text(self) -> str:
        return markdown.times(self.behind) if self.behind else "–"

    @property
    def texts(self) -> list[str]:
        """The runner-up and how far behind it is, as table cells."""
        return [self.runner_up_text, self.behind_text]


def _option(key: BenchKey) -> str:
    return f"{key.model} / {key.pattern} / w{key.workers}"


def told_apart(ratio: Estimate) -> bool:
    """Whether a slower option's time / the faster one's shows a difference (labs.analyse.stats)."""
    return stats.told_apart(ratio.low, ratio.high)


def choose(runtime: RuntimeView, workload: str, kind: str = "cpu") -> Choice | None:
    """The fastest bench of *workload* (by mean job time, among benches whose speedup over the serial
    baseline is comparable and physically plausible), and the fastest plausible one of another model.
    Only jobs of one size compete, the largest with a speedup measured (the planner sizes a job for its
    top worker count): an 8-task job is shorter than a 32-task one without being faster."""
    benches = [(key, bench) for key, bench in runtime.matrix(kind) if key.workload == workload]
    sized = [b.meta.tasks or 0 for k, b in benches if k.model != "serial" and runtime.speedup(k) is not None]
    size = max(sized, default=None)
    candidates = sorted(
        ((k, b) for k, b in benches if (b.meta.tasks or 0) == size), key=lambda kb: kb[1].mean
    )
    plausible, skipped = [], 0
    for key, bench in candidates:
        estimate = runtime.speedup(key)
        if estimate is None:
            continue
        if estimate.usable:
            plausible.append((key, bench, estimate))
        elif not plausible:
            skipped += 1
    if not any(key.model not in (*ENGINES, "serial") for key, _, _ in plausible):
        return None  # an engine alone answers "should this leave the machine", not which model to use here
    best_key, best_bench, best = plausible[0]
    quick = runtime.mode == "quick"
    fastest_of_each: dict[str, tuple[BenchKey, Bench, Estimate]] = {}
    for item in plausible[1:]:
        if item[0].model != best_key.model:
            fastest_of_each.setdefault(item[0].model, item)
    if not fastest_of_each:
        return Choice(best_key, best, skipped, None, None, None, quick=quick)
    ties = tuple(
        key
        for key, bench, _ in fastest_of_each.values()
        if not told_apart(analysed.time_ratio(best_bench, bench))
    )
    other = next(iter(fastest_of_each.values()))
    behind = analysed.time_ratio(best_bench, other[1])
    return Choice(best_key, best, skipped, other[0], other[2], behind, ties, quick)


def fit(runtime: RuntimeView, choice: Choice) -> tuple[str, str]:
    """(recommended workers, Amdahl s) from the model's n-workers curve, or why not."""
    key, best = choice.key, choice.speedup
    if choice.quick:
        return "– (a --quick run)", "–"
    curve = {n: e for n, e in runtime.curve(key.workload, key.model).items() if e.usable}
    if len(curve) < MIN_COUNTS:
        return f"– (needs {MIN_COUNTS} worker counts of one job size, has {len(curve)})", "–"
    recommended = smallest_reaching(curve, best, key.workers)
    if runtime.suites.get(key) != "cpu":
        return f"w{recommended}", "–"  # Amdahl's law describes CPU work shared out, not waiting
    fraction = stats.amdahl_serial_fraction(list(curve), [e.value for e in curve.values()])
    return f"w{recommended}", "–" if fraction is None else f"{fraction:.2f}"


def smallest_reaching(curve: dict[int, Estimate], best: Estimate, otherwise: int) -> int:
    """The smallest worker count whose speedup interval reaches the best speedup's: more workers than
    that buy nothing the measurement can show."""
    reaches = [
        n for n, e in curve.items() if e.high is not None and best.low is not None and e.high >= best.low
    ]
    return reaches[0] if reaches else otherwise


def choices(view: MachineView, kind: str) -> list[tuple[str, str, Choice, str, str]]:
    """(runtime, workload, choice, recommended, Amdahl s) for every workload of *kind* on every runtime."""
    found = []
    for tag, runtime in view.runtimes.items():
        for workload in view.workloads(kind):
            choice = choose(runtime, workload, kind)
            if choice is not None:
                found.append((str(tag), workload, choice, *fit(runtime, choice)))
    return found


def best_models(view: MachineView) -> Section:
    lines = []
    for kind, title in KINDS.items():
        rows = [
            [tag, workload, c.use, markdown.times(c.speedup), str(c.skipped), recommended, fraction, *c.texts]
            for tag, workload, c, recommended, fraction in choices(view, kind)
        ]
        if rows:
            lines += [f"### {title}", "", *markdown.table(HEADER, rows), ""]
    if not lines:
        return section(TITLE, ["No benches with a serial baseline in these results."])
    intro = [
        "Fastest (model, pattern, workers) by mean job time among plausible speedups over the serial "
        "baseline (suspect ones are passed over and counted; I/O jobs of another task count are not "
        "compared); options that cannot be told apart from it are named with it as a tie (the time of "
        "one over the other has a 95% interval that includes parity or lies within "
        f"±{stats.TIE_MARGIN:.0%}); a --quick run recommends nothing. "
        "The recommended worker count is the smallest whose speedup interval reaches the best "
        "one's; s is the Amdahl serial fraction fitted to that model's n-workers curve (CPU-bound only). "
        f"Both need at least {MIN_COUNTS} worker counts. The runner-up is the fastest plausible bench of "
        "another model; its time over the best one's says how far behind it is (above 1: slower).",
        "",
    ]
    return section(TITLE, intro + lines)
