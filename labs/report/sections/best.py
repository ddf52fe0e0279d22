"""Best model per workload and runtime, never a suspect number; Amdahl's fit only where it means something."""

from __future__ import annotations

from labs.analyse import stats
from labs.plan.key import BenchKey
from labs.report import markdown
from labs.report.estimates import Estimate
from labs.report.section import Section, section
from labs.report.view import MachineView, RuntimeView

TITLE = "Best model per workload and runtime"
MIN_COUNTS = 3  # two points fit any Amdahl fraction exactly; a recommendation needs a curve


def _best(runtime: RuntimeView, workload: str) -> tuple[BenchKey, Estimate, int] | None:
    """The fastest bench of *workload* whose speedup is physically plausible, and how many faster ones
    were passed over as suspect."""
    candidates = sorted(
        ((key, bench) for key, bench in runtime.matrix("cpu") if key.workload == workload),
        key=lambda item: item[1].mean,
    )
    skipped = 0
    for key, _ in candidates:
        estimate = runtime.speedup(key)
        if estimate is None:
            continue
        if estimate.usable:
            return key, estimate, skipped
        skipped += 1
    return None


def _fit(runtime: RuntimeView, key: BenchKey, best: Estimate) -> tuple[str, str]:
    """(recommended workers, Amdahl s) from the model's n-workers curve, or why not."""
    curve = {n: e for n, e in runtime.curve(key.workload, key.model).items() if e.usable}
    if len(curve) < MIN_COUNTS:
        return f"– (needs {MIN_COUNTS} worker counts, has {len(curve)})", "–"
    reaches = [
        n for n, e in curve.items() if e.high is not None and best.low is not None and e.high >= best.low
    ]
    recommended = reaches[0] if reaches else key.workers
    fraction = stats.amdahl_serial_fraction(list(curve), [e.value for e in curve.values()])
    return f"w{recommended}", "–" if fraction is None else f"{fraction:.2f}"


def best_models(view: MachineView) -> Section:
    rows = []
    for tag, runtime in view.runtimes.items():
        for workload in view.workloads():
            found = _best(runtime, workload)
            if found is None:
                continue
            key, estimate, skipped = found
            recommended, fraction = _fit(runtime, key, estimate)
            choice = f"{key.model} / {key.pattern} / w{key.workers}"
            rows.append(
                [str(tag), workload, choice, markdown.times(estimate), str(skipped), recommended, fraction]
            )
    if not rows:
        return section(TITLE, ["No CPU-bound benches with a serial baseline in these results."])
    lines = [
        "Fastest (model, pattern, workers) by mean job time among plausible speedups (suspect ones are "
        "passed over and counted); the recommended worker count is the smallest whose speedup interval "
        "reaches the best one's; s is the Amdahl serial fraction fitted to that model's n-workers curve. "
        f"Both need at least {MIN_COUNTS} worker counts.",
        "",
        *markdown.table(
            ["runtime", "workload", "best", "speedup", "suspect passed over", "recommended", "Amdahl s"], rows
        ),
    ]
    return section(TITLE, lines)
