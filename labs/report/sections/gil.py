"""The GIL's effect on threads: the default build, the free-threaded build and its PYTHON_GIL=1 control."""

from __future__ import annotations

from labs.analyse.estimates import Estimate
from labs.core.tag import RuntimeTag
from labs.plan.key import BenchKey
from labs.report import markdown
from labs.report.plots import BarPlot, interval_series
from labs.report.section import Section, section
from labs.report.view import MachineView

STEM = "gil-effect"


def _findings(view: MachineView, data: dict[tuple[str, RuntimeTag], Estimate], top: int) -> list[str]:
    findings = []
    for default, free in view.twins():
        usable = [w for w in view.workloads() if (w, free) in data and (w, default) in data]
        usable = [w for w in usable if data[(w, free)].usable]
        best = max(usable, key=lambda w: data[(w, free)].value, default=None)
        if best:
            control = data.get((best, free.gil_control))
            control_text = (
                f", and {markdown.times(control)} with PYTHON_GIL=1 on the same binary" if control else ""
            )
            findings.append(
                f"On {free}, threads reach {markdown.times(data[(best, free)])} at {top} workers on {best}, "
                f"against {markdown.times(data[(best, default)])} on {default} with the GIL{control_text}."
            )
        if ("contention", free) in data and ("contention", default) in data:
            findings.append(
                f"On the shared-object contention workload, {free} threads reach "
                f"{markdown.times(data[('contention', free)])} at {top} workers "
                f"({default}: {markdown.times(data[('contention', default)])})."
            )
    return findings


def gil_effect(view: MachineView) -> Section:
    title = "The GIL's effect on threads"
    top = view.top_workers()
    if top is None:
        return section(title, ["No CPU-bound thread benches in these results."])
    data: dict[tuple[str, RuntimeTag], Estimate] = {}
    rows = []
    for workload in view.workloads():
        row = [workload]
        for tag, runtime in view.runtimes.items():
            # one point, not a curve: the top count's speedup whatever job size it was measured with
            estimate = runtime.speedup(BenchKey("matrix", workload, "threads", "n-workers", top))
            if estimate is not None:
                data[(workload, tag)] = estimate
            row.append(markdown.times(estimate) if estimate else "–")
        rows.append(row)
    lines = [
        "Threads speedup at the top worker count (n-workers) on each runtime: the default build (GIL), "
        "the free-threaded build, and the same free-threaded binary with `PYTHON_GIL=1`.",
        "",
        *markdown.table(["workload", *[f"{t} threads w{top}" for t in view.tags]], rows),
        "",
        markdown.image(STEM),
    ]
    workloads = view.workloads()
    series = tuple(
        interval_series(str(tag), workloads, [data.get((w, tag)) for w in workloads]) for tag in view.tags
    )
    plot = BarPlot(STEM, "threads speedup", tuple(workloads), series, f"speedup at w{top}", baseline=1)
    return section(title, lines, _findings(view, data, top), [plot])
