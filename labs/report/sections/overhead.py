"""Free-threading's single-thread overhead: serial job time of the free-threaded build over the default's."""

from __future__ import annotations

from labs.analyse.runs import Bench
from labs.report import estimates, markdown
from labs.report.estimates import Estimate
from labs.report.plots import BarPlot, interval_series
from labs.report.section import Section, section
from labs.report.view import MachineView

TITLE = "Free-threading's single-thread overhead"
STEM = "single-thread-overhead"


def single_thread_overhead(view: MachineView) -> Section:
    lines = [
        "Serial job time on the free-threaded build divided by the default build's (above 1: slower). "
        "This is kept apart from multi-thread gains.",
        "",
    ]
    pairs = view.twins()
    if not pairs:
        note = "single-thread overhead: needs a default and a free-threaded run of one version"
        return section(TITLE, [*lines, "No default / free-threaded pair in these results."], left_out=[note])
    findings, series = [], []
    for default, free in pairs:
        rows, matched, ratios = [], [], {}
        worst: tuple[float, str] = (0.0, "")
        for workload in view.workloads():
            base, other = view.runtimes[default].serial(workload), view.runtimes[free].serial(workload)
            if base is None or other is None or not estimates.comparable(base, other):
                continue
            estimate = estimates.time_ratio(base, other)
            ratios[workload] = estimate
            matched.append((base, other))
            worst = max(worst, (estimate.value, workload))
            times = [markdown.duration(estimates.mean_interval(b)) for b in (base, other)]
            rows.append([workload, *times, markdown.times(estimate)])
        lines += [f"### {free} vs {default}", ""]
        header = ["workload", f"{default} serial", f"{free} serial", "ratio [95% CI]"]
        lines += [*markdown.table(header, rows), ""]
        if matched:
            findings.append(_finding(default, free, matched, worst[1]))
            lines += [f"Geometric mean: {markdown.times(estimates.geometric_mean(matched))}.", ""]
            series.append((f"{free} / {default}", ratios))
    if not series:
        return section(TITLE, lines, findings)
    return section(TITLE, [*lines, markdown.image(STEM)], findings, [_plot(view.workloads(), series)])


def _plot(workloads: list[str], series: list[tuple[str, dict[str, Estimate]]]) -> BarPlot:
    """Serial time ratio per workload, one bar per (free-threaded, default) pair; 1 is no overhead."""
    bars = tuple(
        interval_series(label, workloads, [found.get(w) for w in workloads]) for label, found in series
    )
    return BarPlot(
        STEM, "serial time, free-threaded / default", tuple(workloads), bars, "time ratio", baseline=1
    )


def _finding(default: object, free: object, matched: list[tuple[Bench, Bench]], worst: str) -> str:
    ratios = [o.mean / b.mean for b, o in matched]
    geo = estimates.geometric_mean(matched)
    return (
        f"Single-threaded, {free} takes {markdown.times(geo)} the time of {default} (geometric mean of the "
        f"serial job over {len(ratios)} workloads; from {min(ratios):.2f}× to {max(ratios):.2f}×, "
        f"worst on {worst})."
    )
