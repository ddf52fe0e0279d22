"""Free-threading's single-thread overhead: serial job time of the free-threaded build over the default's."""

from __future__ import annotations

from labs.analyse import estimates as analysed
from labs.analyse.estimates import Estimate
from labs.analyse.runs import Bench
from labs.plan import discovery
from labs.report import estimates, markdown
from labs.report.plots import BarPlot, interval_series
from labs.report.section import Section, section
from labs.report.view import MachineView, serial_key

TITLE = "Free-threading's single-thread overhead"
STEM = "single-thread-overhead"


def single_thread_overhead(view: MachineView) -> Section:
    lines = [
        "Serial job time on the free-threaded build divided by the default build's (above 1: slower). "
        "This is kept apart from multi-thread gains.",
        "",
    ]
    pairs = view.twins()
    absent = missing_free_threaded(view)
    if not pairs:
        note = "single-thread overhead: needs a default and a free-threaded run of one version"
        empty = ["No default / free-threaded pair in these results.", *absent]
        return section(TITLE, [*lines, *empty], left_out=[note])
    findings, series = [], []
    for default, free in pairs:
        rows, matched, ratios = [], [], {}
        worst: tuple[float, str] = (0.0, "")
        for workload in view.workloads():
            base, other = view.runtimes[default].serial(workload), view.runtimes[free].serial(workload)
            if base is None or other is None or not estimates.comparable(base, other):
                continue
            serial = serial_key(workload)
            estimate = view.across(
                analysed.time_ratio(base, other),
                (view.runtimes[default], serial),
                (view.runtimes[free], serial),
            )
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
    lines += absent
    if not series:
        return section(TITLE, lines, findings)
    return section(TITLE, [*lines, markdown.image(STEM)], findings, [_plot(view.workloads(), series)])


def missing_free_threaded(view: MachineView) -> list[str]:
    """A line naming each free-threaded build of the matrix that has no results here, and why (as the
    newest run's discovery recorded it): a side-by-side comparison that could not be made is said."""
    records = sorted((r.record for r in view.runtimes.values()), key=lambda r: str(r.get("started", "")))
    recorded = next((r["runtimes_missing"] for r in reversed(records) if "runtimes_missing" in r), {})
    present = {str(tag) for tag in view.runtimes}
    absent = [
        (tag, recorded.get(tag, "no run of it is stored for this machine"))
        for tag in discovery.MATRIX
        if tag.endswith("t") and tag not in present
    ]
    if not absent:
        return []
    lines = ["Free-threaded builds of the matrix with no results on this machine:", ""]
    lines += [f"- {tag}: {why}" for tag, why in absent]
    return [*lines, ""]


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
